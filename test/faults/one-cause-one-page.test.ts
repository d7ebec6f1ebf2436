// One cause, one page, on real parts with the bundled configuration: Prometheus 2.42, Alertmanager
// 0.25 and a Pushgateway, the agent as its own process (prometheus, alertmanager and canary probes),
// the Worker under wrangler dev, a webhook receiver as the pager. Killing Prometheus pages once,
// naming it; everything read through it is recorded as suppressed by it. Then killing Alertmanager
// pages once more, naming it. Before that: clean restarts page nobody, a restart loop pages, a broad
// silence opens a window naming it, and a hung Prometheus (SIGSTOP) pages once like a dead one.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateSecret } from '../../protocol/signature.ts';
import { startAgentProcess } from '../support/agent-process.ts';
import { ALERTMANAGER_BIN, addSilence, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import { killAndWait } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { PUSHGATEWAY_BIN, startPushgateway } from '../support/pushgateway.ts';
import { requireBinary } from '../support/requirement.ts';

const needs = [
  requireBinary(PROMETHEUS_BIN, 'prometheus'),
  requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager'),
  requireBinary(PUSHGATEWAY_BIN, 'prometheus-pushgateway'),
];
const available = needs.every((n) => n.available);

const AGENT = 'one-page';
const agentSecret = generateSecret();
const webhookSecret = generateSecret();

/**
 * The bundled configuration as shipped, with its default holds in time rather than heartbeats: the
 * agent here beats every second, and a restart takes a few; at the usual 15 s interval the default
 * `for` of two heartbeats is 30 s.
 */
function bundled(): string {
  const config = parseYaml(readFileSync('blindspot.config.yaml', 'utf8')) as { defaults: Record<string, unknown> };
  return JSON.stringify({
    ...config,
    defaults: { ...config.defaults, for: { heartbeats: 2, seconds: 10 }, recover_for: { heartbeats: 2, seconds: 0 } },
  });
}

let pushgateway: Awaited<ReturnType<typeof startPushgateway>>;
let alertmanager: RunningAlertmanager;
let prometheus: RunningPrometheus;
let worker: TestWorker;
let pager: Recorder;
let agent: ChildProcess | undefined;

interface WindowRow {
  monitor: string;
  cause: string;
  suppressed_by: string | null;
}
const windows = () =>
  d1Query<WindowRow>(worker.persistTo, `SELECT monitor, cause, suppressed_by FROM windows WHERE agent_id = '${AGENT}' ORDER BY started_at`);

/** The windows of the events of one type the pager received. */
function eventWindows(type: string): { monitor: string; signal: string | null }[] {
  return pager.requests
    .map(
      (r) =>
        new Webhook(webhookSecret).verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          data: { window: { monitor: string; signal: string | null } };
        },
    )
    .filter((e) => e.type === type)
    .map((e) => e.data.window);
}

/** The monitors of the windows that paged (window.opened events the pager received). */
const pagedMonitors = () => eventWindows('window.opened').map((w) => w.monitor);
const closedMonitors = () => eventWindows('window.closed').map((w) => w.monitor);
beforeAll(async () => {
  if (!available) return;
  pager = await startRecorder();
  pushgateway = await startPushgateway();
  alertmanager = await startAlertmanager('route: { receiver: none }\nreceivers: [{ name: none }]\n');
  prometheus = await startPrometheus({
    scrapeIntervalS: 1,
    alertmanagerUrl: alertmanager.url,
    rules: 'groups: [{ name: watchdog, rules: [{ alert: Watchdog, expr: vector(1) }] }]',
    scrape: [{ job: 'pushgateway', target: pushgateway.host, honorLabels: true }],
  });
  worker = await startTestWorker('onepage', {
    BLINDSPOT_AGENT_SECRETS: JSON.stringify({ [AGENT]: [agentSecret] }),
    BLINDSPOT_CONFIG: bundled(),
    BLINDSPOT_WEBHOOK_URL: `${pager.url}/events`,
    BLINDSPOT_WEBHOOK_SECRET: webhookSecret,
  });
  agent = startAgentProcess(worker, AGENT, agentSecret, [
    `{ type: prometheus, url: "${prometheus.url}", timeout_s: 1 }`,
    `{ type: alertmanager, url: "${alertmanager.url}", timeout_s: 1 }`,
    `{ type: pushgateway_canary, pushgateway_url: "${pushgateway.url}", prometheus_url: "${prometheus.url}", timeout_s: 1 }`,
  ]);
}, 120_000);

afterAll(async () => {
  await killAndWait(agent);
  await Promise.all([worker?.stop(), prometheus?.stop(), alertmanager?.stop(), pushgateway?.stop(), pager?.close()]);
});

describe.skipIf(!available)(
  `one cause, one page on the bundled configuration${available ? '' : ` (skipped: ${needs.map((n) => n.reason).join('; ')})`}`,
  () => {
    it('a clean restart of Prometheus or Alertmanager pages nobody', async () => {
      await waitFor(
        'live heartbeats',
        async () => d1Query<{ n: number }>(worker.persistTo, `SELECT count(*) AS n FROM agents WHERE id = '${AGENT}'`)[0]?.n === 1,
        30_000,
        500,
      );
      // A healthy stack: a few heartbeats in, nothing pages.
      await new Promise((r) => setTimeout(r, 5000));
      expect(pagedMonitors()).toEqual([]);
      await prometheus.restart();
      await alertmanager.restart();
      // Long enough for anything the restarts dropped or broke to have paged.
      await new Promise((r) => setTimeout(r, 8000));
      expect(pagedMonitors()).toEqual([]);
    }, 60_000);

    it('a restart loop pages, however quickly each restart recovers', async () => {
      // With the restart above, three within ten minutes.
      await prometheus.restart();
      await new Promise((r) => setTimeout(r, 2000));
      await prometheus.restart();
      await waitFor('the restart-loop page', async () => pagedMonitors().includes('prometheus-restart-loop') || undefined, 30_000, 500);
      expect(pagedMonitors()).toEqual(['prometheus-restart-loop']);
    }, 60_000);

    it('a broad critical silence opens a window naming it within two heartbeats, and removing it closes the window', async () => {
      const now = Date.now();
      const silenceID = await addSilence(alertmanager.url, [{ name: 'severity', value: 'critical|warning', isRegex: true, isEqual: true }]);
      const opened = await waitFor(
        'the silence window',
        async () =>
          d1Query<{ signal: string; cause: string; started_at: number }>(
            worker.persistTo,
            `SELECT signal, cause, started_at FROM windows WHERE agent_id = '${AGENT}' AND monitor = 'alerts-not-silenced'`,
          )[0],
        30_000,
        250,
      );
      // The window names the silence: its id, who made it, its matchers and when it ends.
      expect(opened.cause).toBe('alerts_silenced');
      expect(opened.signal.startsWith(`alertmanager.silences.broad:${silenceID}{`)).toBe(true);
      expect(opened.signal).toContain('created_by="sam"');
      expect(opened.signal).toContain(`matchers=${JSON.stringify('{severity=~"critical|warning"}')}`);
      expect(opened.signal).toMatch(/ends_at="\d{4}-\d\d-\d\dT[\d:.]+Z"/);
      // Opened on the first heartbeat that saw it (for: one heartbeat), a second or two after it was made.
      expect(opened.started_at - now).toBeLessThan(10_000);
      const page = await waitFor(
        'its page',
        async () => eventWindows('window.opened').find((w) => w.monitor === 'alerts-not-silenced'),
        15_000,
        250,
      );
      expect(page.signal).toBe(opened.signal);
      await fetch(`${alertmanager.url}/api/v2/silence/${silenceID}`, { method: 'DELETE' });
      await waitFor(
        'the silence window to close',
        async () =>
          d1Query<{ ended_at: number | null }>(
            worker.persistTo,
            `SELECT ended_at FROM windows WHERE agent_id = '${AGENT}' AND monitor = 'alerts-not-silenced'`,
          )[0]?.ended_at ?? undefined,
        30_000,
        250,
      );
      await waitFor('its resolve', async () => closedMonitors().includes('alerts-not-silenced') || undefined, 15_000, 250);
    }, 60_000);

    it('a hung Prometheus pages once, naming it, the rest suppressed by it; it resolves when Prometheus answers again', async () => {
      const before = pagedMonitors().length;
      const openBefore = windows().length;
      prometheus.signal('SIGSTOP');
      try {
        await waitFor('the Prometheus page', async () => pagedMonitors().slice(before).includes('prometheus-up') || undefined, 30_000, 500);
        await new Promise((r) => setTimeout(r, 4000));
        expect(pagedMonitors().slice(before)).toEqual(['prometheus-up']);
        const quiet = windows()
          .slice(openBefore)
          .filter((w) => w.monitor !== 'prometheus-up');
        for (const w of quiet) expect(w.suppressed_by, w.monitor).toMatch(/^depends_on:prometheus-(up|restart-loop)$/);
      } finally {
        prometheus.signal('SIGCONT');
      }
      await waitFor('the resolve', async () => closedMonitors().includes('prometheus-up') || undefined, 45_000, 500);
    }, 90_000);

    it('a dead Prometheus pages once, naming it; a dead Alertmanager then pages once more, naming it', async () => {
      const before = pagedMonitors().length;
      const openBefore = windows().length;
      await prometheus.stop();
      await waitFor('the Prometheus page', async () => pagedMonitors().slice(before).includes('prometheus-up') || undefined, 30_000, 500);
      // Long enough for everything read through Prometheus to have opened its own window.
      await new Promise((r) => setTimeout(r, 4000));
      expect(pagedMonitors().slice(before)).toEqual(['prometheus-up']);
      const quiet = windows()
        .slice(openBefore)
        .filter((w) => w.monitor !== 'prometheus-up');
      expect(quiet.length).toBeGreaterThan(0);
      for (const w of quiet) expect(w, w.monitor).toMatchObject({ suppressed_by: 'depends_on:prometheus-up' });

      await alertmanager.stop();
      await waitFor(
        'the Alertmanager page',
        async () => pagedMonitors().slice(before).includes('alertmanager-up') || undefined,
        30_000,
        500,
      );
      await new Promise((r) => setTimeout(r, 4000));
      expect(pagedMonitors().slice(before)).toEqual(['prometheus-up', 'alertmanager-up']);
      for (const w of windows()
        .slice(openBefore)
        .filter((x) => x.monitor !== 'prometheus-up' && x.monitor !== 'alertmanager-up'))
        expect(w.suppressed_by, w.monitor).toMatch(/^depends_on:(prometheus|alertmanager)-(up|restart-loop)$/);
    }, 120_000);
  },
);
