// The agent against a real primary stack on loopback: Prometheus 2.42 scraping an app and a
// Pushgateway, an always-firing rule sent to Alertmanager 0.25, whose webhook receiver is ours; the
// Worker under wrangler dev. Each step breaks one part and checks what the agent and the Worker say.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type AgentConfig } from '../../agent/config.ts';
import { allUp, judge } from '../../agent/judge.ts';
import { probesOf } from '../../agent/main.ts';
import type { Probe } from '../../agent/probes/probe.ts';
import { collectAll } from '../../agent/probes/registry.ts';
import { loadConfigText } from '../../config/load.ts';
import type { WatchConfig } from '../../config/resolve.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { generateSecret } from '../../protocol/signature.ts';
import { ALERTMANAGER_BIN, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import type { Daemon } from '../support/daemon.ts';
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
const reason = needs
  .filter((n) => !n.available)
  .map((n) => n.reason)
  .join('; ');

const AGENT = 'stack-e2e';
const secret = generateSecret();
// What the Worker judges by; `once` and the in-process checks below use the same text.
const WATCHDOG = JSON.stringify({
  defaults: { for: { heartbeats: 2 }, recover_for: { heartbeats: 2, seconds: 0 } },
  monitors: [
    { id: 'prometheus-up', signal: 'prometheus.up', kind: 'freshness', blind: { max_age_s: 10 } },
    // Scrapes are every second; 15 s leaves room for a loaded CI machine before anything is called degraded.
    { id: 'app-freshness', signal: 'metrics.freshness', kind: 'freshness', degraded: { max_age_s: 15 }, blind: { max_age_s: 30 } },
    { id: 'canary', signal: 'canary.freshness', kind: 'freshness', degraded: { max_age_s: 10 }, blind: { max_age_s: 30 } },
  ],
});

let app: Recorder;
let pager: Recorder;
let pushgateway: Daemon & { host: string };
let alertmanager: RunningAlertmanager;
let prometheus: RunningPrometheus;
let worker: TestWorker;
let config: AgentConfig;
let watch: WatchConfig;
let probes: Probe[];
let agentLog = '';
let agent: ReturnType<typeof spawn> | undefined;

const byName = (signals: Signal[], name: string, labels: Record<string, string> = {}) =>
  signals.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
const one = (signals: Signal[], name: string, labels: Record<string, string> = {}) => {
  const found = byName(signals, name, labels);
  if (found.length !== 1)
    throw new Error(`expected one ${name}${JSON.stringify(labels)}, got ${found.length}: ${JSON.stringify(signals.map((s) => s.name))}`);
  return found[0] as Signal;
};

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/blindspot-agent.js', ...args], {
      env: { ...process.env, BLINDSPOT_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

const windows = (monitor: string) =>
  d1Query<{ cause: string; level: string; peak_value: number | null; ended_at: number | null }>(
    worker.persistTo,
    `SELECT cause, level, peak_value, ended_at FROM windows WHERE agent_id = '${AGENT}' AND monitor = '${monitor}' ORDER BY started_at`,
  );

beforeAll(async () => {
  if (!available) return;
  app = await startRecorder();
  app.answer(() => ({
    status: 200,
    body: '# TYPE app_requests_total counter\napp_requests_total 42\n',
    headers: { 'content-type': 'text/plain; version=0.0.4' },
  }));
  pager = await startRecorder();
  pushgateway = await startPushgateway();
  alertmanager = await startAlertmanager(
    [
      'route: { receiver: pager, group_wait: 1s, group_interval: 1s, repeat_interval: 2s }',
      'receivers:',
      `  - name: pager`,
      `    webhook_configs: [{ url: "${pager.url}/alerts", send_resolved: false }]`,
    ].join('\n'),
  );
  prometheus = await startPrometheus({
    scrapeIntervalS: 1,
    alertmanagerUrl: alertmanager.url,
    resendDelayS: 1,
    rules: 'groups: [{ name: watchdog, rules: [{ alert: Watchdog, expr: vector(1) }] }]',
    scrape: [
      { job: 'app', target: new URL(app.url).host },
      { job: 'pushgateway', target: pushgateway.host, honorLabels: true },
    ],
  });
  worker = await startTestWorker('stack', { BLINDSPOT_AGENT_SECRETS: `{"${AGENT}":["${secret}"]}`, BLINDSPOT_CONFIG: WATCHDOG });
  const agentYaml = [
    `agent_id: ${AGENT}`,
    `worker_url: ${worker.url}`,
    `secret: ${secret}`,
    'interval_s: 1',
    `spool_dir: ${join(worker.dir, 'spool')}`,
    'probes:',
    `  - { type: prometheus, url: "${prometheus.url}", timeout_s: 2, freshness: [{ job: app }] }`,
    `  - { type: alertmanager, url: "${alertmanager.url}", timeout_s: 2 }`,
    `  - { type: pushgateway_canary, pushgateway_url: "${pushgateway.url}", prometheus_url: "${prometheus.url}", timeout_s: 2 }`,
    `  - { type: promql, name: scrape.failures, url: "${prometheus.url}", query: "sum(1 - up)", kind: dropped, unit: targets }`,
  ].join('\n');
  writeFileSync(join(worker.dir, 'agent.yaml'), agentYaml);
  writeFileSync(join(worker.dir, 'watchdog.json'), WATCHDOG);
  config = parseConfig((await import('yaml')).parse(agentYaml), 'agent.yaml', {});
  const loaded = loadConfigText(WATCHDOG);
  if (!loaded.ok) throw new Error(loaded.errors.join('; '));
  watch = loaded.config;
  probes = probesOf(config);
}, 120_000);

afterAll(async () => {
  await killAndWait(agent);
  await Promise.all([worker?.stop(), prometheus?.stop(), alertmanager?.stop(), pushgateway?.stop(), app?.close(), pager?.close()]);
});

describe.skipIf(!available)(
  `the agent against real Prometheus, Alertmanager and Pushgateway${available ? '' : ` (skipped: ${reason})`}`,
  () => {
    it('a healthy stack: every signal is measured and within its thresholds', async () => {
      // Wait until the first alert went out (so the webhook integration is in use) and a canary made it through.
      await waitFor('the Watchdog alert at the pager', async () => pager.requests.length > 0, 30_000);
      const signals = await waitFor(
        'every signal good',
        async () => {
          const { signals } = await collectAll(probes, config.labels);
          return allUp(judge(watch, AGENT, signals)) ? signals : undefined;
        },
        30_000,
        500,
      );
      expect(signals.every((s) => s.value !== null && s.error === null)).toBe(true);
      expect(one(signals, 'prometheus.up').value).toBeLessThan(5);
      expect(one(signals, 'prometheus.targets_down').value).toBe(0);
      expect(one(signals, 'prometheus.notifications.dropped').value).toBe(0);
      expect(one(signals, 'prometheus.notifications.queue_fill').value).toBeLessThan(0.5);
      expect(one(signals, 'prometheus.rules.failed').value).toBe(0);
      expect(one(signals, 'metrics.freshness', { job: 'app' }).value).toBeLessThan(5);
      expect(one(signals, 'alertmanager.notifications.failed', { integration: 'webhook' }).value).toBe(0);
      expect(one(signals, 'scrape.failures').value).toBe(0);
      // No remote write configured: no lag signal rather than a made-up zero.
      expect(byName(signals, 'prometheus.remote_write.lag')).toEqual([]);
      // The agent's own telemetry: one duration per probe.
      expect(
        byName(signals, 'agent.probe.duration')
          .map((s) => s.labels?.probe)
          .sort(),
      ).toEqual(['alertmanager', 'canary', 'prometheus', 'scrape.failures']);

      const once = await runCli([
        'once',
        '--config',
        join(worker.dir, 'agent.yaml'),
        '--watchdog-config',
        join(worker.dir, 'watchdog.json'),
      ]);
      expect(once.stderr).not.toMatch(/^(DEGRADED|BLIND|UNKNOWN)\s/m);
      expect(once.code).toBe(0);
    }, 90_000);

    it('doctor: every probe OK, every alerting rule can fire, and the Worker takes this agent; a wrong secret is named', async () => {
      const ok = await runCli(['doctor', '--config', join(worker.dir, 'agent.yaml')]);
      expect(ok.stdout).toMatch(/^OK\s+signature\s+heartbeat\s+the Worker takes agent "stack-e2e" with this secret/m);
      expect(ok.stdout).toMatch(/^OK\s+prometheus\.rules\s+alert_rules\s+1 of 1 alerting rule\(s\) can fire/m);
      expect(ok.code).toBe(0);
      const wrong = join(worker.dir, 'agent-wrong-secret.yaml');
      writeFileSync(wrong, readFileSync(join(worker.dir, 'agent.yaml'), 'utf8').replace(/^secret: .*$/m, `secret: ${generateSecret()}`));
      const refused = await runCli(['doctor', '--config', wrong]);
      expect(refused.stdout).toMatch(/^FAIL\s+signature\s+heartbeat\s+.*invalid_signature.*copy the secret again/m);
      expect(refused.code).toBe(1);
    }, 60_000);

    it('measures the canary round trip: pushed, scraped, stored and read back within a few scrape intervals', async () => {
      const first = one((await collectAll(probes)).signals, 'canary.freshness');
      await new Promise((r) => setTimeout(r, 2500));
      const second = one((await collectAll(probes)).signals, 'canary.freshness');
      // Pushed every collection and scraped every second: the newest reading that came through is young.
      for (const s of [first, second]) {
        expect(s.error).toBeNull();
        expect(s.value).toBeGreaterThanOrEqual(0);
        expect(s.value).toBeLessThan(4);
      }
      const pushed = await (await fetch(`${pushgateway.url}/metrics`)).text();
      expect(pushed).toMatch(
        new RegExp(`blindspot_canary_pushed_at_seconds\\{blindspot_canary="${AGENT}",instance="",job="blindspot_canary"\\} \\d`),
      );
    }, 30_000);

    it('the Worker opens a window when the scraped target stops, from the freshness the agent measured', async () => {
      agent = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', join(worker.dir, 'agent.yaml')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      agent.stderr?.on('data', (d) => (agentLog += d));
      await waitFor(
        'live heartbeats',
        async () => d1Query<{ n: number }>(worker.persistTo, `SELECT count(*) AS n FROM agents WHERE id = '${AGENT}'`)[0]?.n === 1,
        30_000,
        500,
      );
      expect(windows('app-freshness')).toEqual([]);
      await app.close();
      const opened = await waitFor('an app-freshness window', async () => windows('app-freshness')[0], 45_000, 1000);
      expect(opened).toMatchObject({ cause: 'stale', ended_at: null });
      expect(opened.peak_value).toBeGreaterThan(15);
      // Only the app went away: Prometheus itself and the canary stay up.
      expect(windows('prometheus-up')).toEqual([]);
    }, 90_000);

    it('an unreachable Alertmanager receiver makes the failed-notifications signal positive', async () => {
      // While the receiver answers, a reading counts no failure. (Under a loaded CI machine one early
      // delivery may have timed out; the counter is a delta per reading, so the next reading is clean.)
      const healthy = await waitFor(
        'a reading with no failed notification',
        async () => {
          const s = one((await collectAll(probes)).signals, 'alertmanager.notifications.failed', { integration: 'webhook' });
          return s.value === 0 ? s : undefined;
        },
        30_000,
        1000,
      );
      expect(healthy.error).toBeNull();
      await pager.close();
      const failed = await waitFor(
        'a failed notification',
        async () => {
          const s = one((await collectAll(probes)).signals, 'alertmanager.notifications.failed', { integration: 'webhook' });
          return (s.value ?? 0) > 0 ? s : undefined;
        },
        30_000,
        1000,
      );
      expect(failed.error).toBeNull();
      // Any failed notification is blind: an alert did not reach anyone.
      expect(judge(watch, AGENT, [failed])).toEqual([expect.objectContaining({ level: 'blind' })]);
      // once, reading the counters a few seconds apart, says the same through its exit status. Alertmanager
      // backs off between tries, so a window may see no new failure: a few tries are allowed.
      const cli = [
        'once',
        '--over',
        '4',
        '--config',
        join(worker.dir, 'agent.yaml'),
        '--watchdog-config',
        join(worker.dir, 'watchdog.json'),
      ];
      const once = await waitFor(
        'once to see a failure',
        async () => {
          const r = await runCli(cli);
          return /^BLIND\s+alertmanager\.notifications\.failed/m.test(r.stderr) ? r : undefined;
        },
        40_000,
        0,
      );
      expect(once.stderr).toMatch(/^BLIND\s+alertmanager\.notifications\.failed\{integration=webhook\}\s+[1-9]/m);
      expect(once.code).toBe(1);
    }, 90_000);

    it('Prometheus stopped: its signals become unknown, not zero, and the Worker marks them blind', async () => {
      await prometheus.stop();
      const { signals } = await collectAll(probes);
      const fromPrometheus = signals.filter(
        (s) => s.labels?.source === 'prometheus' || s.labels?.source === 'canary' || s.name === 'scrape.failures',
      );
      expect(fromPrometheus.length).toBeGreaterThanOrEqual(8);
      for (const s of fromPrometheus) {
        expect(s.value).toBeNull();
        expect(s.error).toMatch(/cannot reach Prometheus/);
      }
      const blind = await waitFor('a prometheus-up window', async () => windows('prometheus-up')[0], 45_000, 1000);
      expect(blind).toMatchObject({ cause: 'unknown', level: 'unknown', peak_value: null, ended_at: null });
      expect(agentLog).not.toMatch(/level=error/);
    }, 90_000);
  },
);
