// A real Prometheus 2.42 and Alertmanager 0.25 on loopback, a Worker under wrangler dev with the
// bundled configuration paging a webhook receiver, and an agent beating every INTERVAL_S seconds: the
// stage on which the alert-path-config and alert-path-delivery tests inject a fault each (see fault()). A window opens
// after two bad heartbeats and 10 s.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startAgentProcess } from './agent-process.ts';
import { ALERTMANAGER_BIN, type RunningAlertmanager, startAlertmanager } from './alertmanager.ts';
import { killAndWait } from './child.ts';
import { startTestWorker, type TestWorker } from './e2e-worker.ts';
import { type Recorder, startRecorder } from './http-recorder.ts';
import { d1Query } from './local-d1.ts';
import { waitFor } from './ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from './prometheus.ts';
import { requireBinary } from './requirement.ts';

export const alertPathNeeds = [requireBinary(PROMETHEUS_BIN, 'prometheus'), requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager')];
export const alertPathAvailable = alertPathNeeds.every((n) => n.available);
export const INTERVAL_S = 3;
const SLOW_READ_MS = 1500;
export const WATCHDOG_GROUP = '{ name: watchdog, rules: [{ alert: Watchdog, expr: vector(1) }] }';
/** A group that reads through the slow remote read every second: each evaluation takes SLOW_READ_MS. */
export const SLOW_GROUP = `{ name: slow, interval: 1s, rules: [{ record: "slow:up", expr: 'count(up{slow="yes"})' }] }`;

interface Event {
  type: string;
  data: { window: { monitor: string; cause: string; signal: string | null } };
}

/** Starts the stage before the file's tests and stops it after them. Call at the top of a test file. */
export function useAlertPathStack(AGENT: string) {
  const agentSecret = generateSecret();
  const webhookSecret = generateSecret();

  let alertmanager: RunningAlertmanager;
  let prometheus: RunningPrometheus;
  let worker: TestWorker;
  /** The pager (the Worker's webhook), Alertmanager's receiver, a scrape target, a remote-write endpoint. */
  let pager: Recorder;
  /** A remote-read endpoint that answers every query after SLOW_READ_MS: what makes a rule group slow. */
  let slowRead: Server;
  let receiver: Recorder;
  let app: Recorder;
  let remote: Recorder;
  let agent: ChildProcess | undefined;
  let promConfig: string;
  let promRules: string;
  let amConfig: string;

  /** Every event the pager received, each verified once, when it arrived (a signature's timestamp ages). */
  const verified: Event[] = [];
  function events(): Event[] {
    for (const r of pager.requests.slice(verified.length))
      verified.push(new Webhook(webhookSecret).verify(r.body, r.headers as Record<string, string>) as Event);
    return verified;
  }

  /**
   * Open windows of the configured monitors. The implicit `auto:` ones are left out: on a loaded machine
   * (npm test runs two files at a time on two cores) a scrape of the test's target can time out, and
   * `auto:prometheus.targets_down` rightly says so, whatever fault is being injected.
   */
  const openWindows = () =>
    d1Query<{ monitor: string }>(worker.persistTo, `SELECT monitor FROM windows WHERE agent_id = '${AGENT}' AND ended_at IS NULL`)
      .map((w) => w.monitor)
      .filter((m) => !m.startsWith('auto:'));

  const openDetails = () =>
    d1Query(
      worker.persistTo,
      `SELECT monitor, cause, signal, peak_value, started_at, suppressed_by FROM windows WHERE agent_id = '${AGENT}' AND ended_at IS NULL`,
    );

  const promFile = () => join(prometheus.dir, 'prometheus.yml');
  const rulesFile = () => join(prometheus.dir, 'rules.yml');
  const amFile = () => join(alertmanager.dir, 'alertmanager.yml');
  function reloadPrometheus(text: string, rules = promRules): void {
    writeFileSync(promFile(), text);
    writeFileSync(rulesFile(), rules);
    prometheus.signal('SIGHUP');
  }
  function reloadAlertmanager(text: string): void {
    writeFileSync(amFile(), text);
    alertmanager.signal('SIGHUP');
  }

  /** What each measured fault took from injection to its page, printed at the end. */
  const measured: [string, number][] = [];

  /**
   * Injects a fault, waits for the page of `monitor` (with `cause`), repairs it, waits for its resolve
   * and for nothing to stay open. Returns the page's window.
   */
  async function fault(
    what: string,
    monitor: string,
    cause: string | readonly string[],
    inject: () => void | Promise<void>,
    repair: () => void | Promise<void>,
    /** Implicit (`auto:`) monitors that must not page either (the rest are left out, as openWindows says). */
    autoQuiet: readonly string[] = [],
  ): Promise<Event['data']['window']> {
    await waitFor('nothing open before the fault', async () => openWindows().length === 0 || undefined, 90_000, 250).catch((e: Error) => {
      throw new Error(`${e.message}; still open: ${JSON.stringify(openDetails())}`);
    });
    const before = events().length;
    const at = Date.now();
    await inject();
    const opened = await waitFor(
      `the page of ${monitor} for ${what}`,
      async () =>
        events()
          .slice(before)
          .find((e) => e.type === 'window.opened' && e.data.window.monitor === monitor),
      90_000,
      250,
    );
    measured.push([what, Date.now() - at]);
    expect(typeof cause === 'string' ? [cause] : cause).toContain(opened.data.window.cause);
    await repair();
    await waitFor(
      `the resolve of ${monitor} after ${what} was repaired`,
      async () =>
        events()
          .slice(before)
          .find((e) => e.type === 'window.closed' && e.data.window.monitor === monitor),
      90_000,
      250,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; still open: ${JSON.stringify(openDetails())}`);
    });
    // The fault's own window is closed (a side effect such as a refused target's auto: monitor may
    // take longer; it was not paged, which the next check proves).
    await waitFor(`the window of ${monitor} closed`, async () => (openWindows().includes(monitor) ? undefined : true), 60_000, 250);
    // One cause, one page: the fault's monitor paged once, and no other configured monitor paged. (A
    // Prometheus reload used to blip Alertmanagers and jobs missing, and those monitors flapped.)
    const paged = events()
      .slice(before)
      .filter(
        (e) => e.type === 'window.opened' && (!e.data.window.monitor.startsWith('auto:') || autoQuiet.includes(e.data.window.monitor)),
      )
      .map((e) => e.data.window.monitor);
    expect(paged, `what ${what} paged`).toEqual([monitor]);
    return opened.data.window;
  }

  beforeAll(async () => {
    if (!alertPathAvailable) return;
    [pager, receiver, app, remote] = await Promise.all([startRecorder(), startRecorder(), startRecorder(), startRecorder()]);
    app.answer(() => ({
      status: 200,
      body: `${Array.from({ length: 10 }, (_, i) => `app_series{n="${i}"} ${i}`).join('\n')}\n`,
      headers: { 'content-type': 'text/plain; version=0.0.4' },
    }));
    remote.answer(() => ({ status: 204, body: '' }));
    amConfig = [
      // Sent again every few seconds, so a receiver that fails is failed again and again.
      'route: { receiver: hook, group_wait: 0s, group_interval: 1s, repeat_interval: 2s }',
      `receivers: [{ name: hook, webhook_configs: [{ url: "${receiver.url}/alerts", send_resolved: false }] }]`,
      '',
    ].join('\n');
    alertmanager = await startAlertmanager(amConfig);
    prometheus = await startPrometheus({
      // Two seconds, so a scrape on a loaded machine has two seconds to answer.
      scrapeIntervalS: 2,
      alertmanagerUrl: alertmanager.url,
      resendDelayS: 1,
      rules: `groups: [${WATCHDOG_GROUP}]`,
      remoteWriteUrl: `${remote.url}/write`,
      scrape: [{ job: 'app', target: new URL(app.url).host, sampleLimit: 100 }],
    });
    promConfig = readFileSync(promFile(), 'utf8');
    promRules = readFileSync(rulesFile(), 'utf8');
    // An empty remote-read answer (one empty QueryResult, snappy-framed), after a pause: a rule that reads
    // through it takes SLOW_READ_MS without costing CPU, and queries without its matcher never ask it.
    slowRead = createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
        res.end(Buffer.from([0x02, 0x04, 0x0a, 0x00]));
      }, SLOW_READ_MS);
    });
    await new Promise<void>((resolve) => slowRead.listen(0, '127.0.0.1', resolve));
    const config = JSON.parse(JSON.stringify((await import('yaml')).parse(readFileSync('blindspot.config.yaml', 'utf8'))));
    // Two heartbeats and 10 s: a Prometheus reload under load briefly shows no Alertmanager and empty jobs
    // (discovery restarts), which the bundled 30 s (two 15 s heartbeats) rides out too.
    config.defaults = { ...config.defaults, for: { heartbeats: 2, seconds: 10 }, recover_for: { heartbeats: 2, seconds: 0 } };
    // The bundled 30 s of notifications-lost, shortened like the rest (a single restart's drops stay under it all the same).
    for (const m of config.monitors as { id: string; for?: unknown }[])
      if (m.id === 'notifications-lost') m.for = { heartbeats: 2, seconds: 10 };
    worker = await startTestWorker(AGENT, {
      BLINDSPOT_AGENT_SECRETS: JSON.stringify({ [AGENT]: [agentSecret] }),
      BLINDSPOT_CONFIG: JSON.stringify(config),
      BLINDSPOT_WEBHOOK_URL: `${pager.url}/events`,
      BLINDSPOT_WEBHOOK_SECRET: webhookSecret,
    });
    agent = startAgentProcess(
      worker,
      AGENT,
      agentSecret,
      [
        `{ type: prometheus, url: "${prometheus.url}", timeout_s: 1, alert_rules: false }`,
        `{ type: alertmanager, url: "${alertmanager.url}", timeout_s: 1, silence_max_age_s: false }`,
      ],
      INTERVAL_S,
    );
    // A healthy start: heartbeats taken, Alertmanager delivering, nothing open.
    await waitFor('Alertmanager to deliver the Watchdog', async () => receiver.requests.length > 0 || undefined, 60_000, 250);
    await waitFor(
      'a healthy start',
      async () =>
        d1Query<{ n: number }>(worker.persistTo, `SELECT count(*) AS n FROM agents WHERE id = '${AGENT}'`)[0]?.n === 1 &&
        openWindows().length === 0 &&
        events().length === 0
          ? true
          : undefined,
      60_000,
      500,
    );
  }, 180_000);

  afterAll(async () => {
    await killAndWait(agent);
    await Promise.all([
      worker?.stop(),
      prometheus?.stop(),
      alertmanager?.stop(),
      pager?.close(),
      receiver?.close(),
      app?.close(),
      remote?.close(),
      new Promise((resolve) => (slowRead ? (slowRead.closeAllConnections(), slowRead.close(resolve)) : resolve(undefined))),
    ]);
    if (measured.length > 0)
      process.stdout.write(
        `alert-path faults, injection to page (${INTERVAL_S} s heartbeats):\n${measured.map(([w, ms]) => `  ${w}: ${(ms / 1000).toFixed(1)} s`).join('\n')}\n`,
      );
  });

  return {
    fault,
    reloadPrometheus,
    reloadAlertmanager,
    get promConfig() {
      return promConfig;
    },
    get amConfig() {
      return amConfig;
    },
    get alertmanagerHost() {
      return new URL(alertmanager.url).host;
    },
    get receiver() {
      return receiver;
    },
    get remote() {
      return remote;
    },
    /** The remote-read endpoint that answers after SLOW_READ_MS. */
    slowReadUrl: () => `http://127.0.0.1:${(slowRead.address() as AddressInfo).port}/read`,
  };
}
