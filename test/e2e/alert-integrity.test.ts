// Can the alerts still fire, end to end on real parts: Prometheus 2.42 evaluating an alerting rule
// on a metric a Pushgateway serves, the agent as its own process, the Worker under wrangler dev with
// the bundled monitor for it, and a webhook receiver as the pager. The metric goes away (a rename, a
// dropped exporter): the rule can no longer fire, and the page names it with cause
// alert_rules_silent; the metric comes back and the window closes with a resolve.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startAgentProcess } from '../support/agent-process.ts';
import { killAndWait } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { PUSHGATEWAY_BIN, startPushgateway } from '../support/pushgateway.ts';
import { requireBinary } from '../support/requirement.ts';

const SIGNAL = 'prometheus.rules.unfireable:OrdersStalled{group="orders", missing="orders_processed_total", source="prometheus"}';
const needs = [requireBinary(PROMETHEUS_BIN, 'prometheus'), requireBinary(PUSHGATEWAY_BIN, 'prometheus-pushgateway')];
const available = needs.every((n) => n.available);

const AGENT = 'rules-e2e';
const agentSecret = generateSecret();
const webhookSecret = generateSecret();

/** The bundled monitors for Prometheus and its alerting rules, as shipped, held to a one-second agent. */
function watchdogConfig(): string {
  const bundled = parseYaml(readFileSync('blindspot.config.yaml', 'utf8')) as { components: unknown[]; monitors: { id: string }[] };
  const monitors = bundled.monitors.filter((m) => m.id === 'prometheus-up' || m.id === 'alert-rules-can-fire');
  expect(monitors).toHaveLength(2);
  return JSON.stringify({
    components: bundled.components,
    defaults: { component: 'metrics', recover_for: { heartbeats: 2, seconds: 0 } },
    monitors,
  });
}

let pushgateway: Awaited<ReturnType<typeof startPushgateway>>;
let prometheus: RunningPrometheus;
let worker: TestWorker;
let pager: Recorder;
let agent: ChildProcess | undefined;

const push = (value: number) =>
  fetch(`${pushgateway.url}/metrics/job/orders`, { method: 'PUT', body: `orders_processed_total ${value}\n` });

interface WindowRow {
  monitor: string;
  cause: string;
  signal: string | null;
  ended_at: number | null;
}
/** The rule monitor's windows (this Prometheus has no Alertmanager: other monitors open windows of their own). */
const windows = () =>
  d1Query<WindowRow>(
    worker.persistTo,
    `SELECT monitor, cause, signal, ended_at FROM windows WHERE agent_id = '${AGENT}' AND monitor = 'alert-rules-can-fire' ORDER BY started_at`,
  );

function events(): { type: string; window: { monitor: string; cause: string; signal: string | null } }[] {
  return allEvents().filter((e) => e.window.monitor === 'alert-rules-can-fire');
}

function allEvents(): { type: string; window: { monitor: string; cause: string; signal: string | null } }[] {
  return pager.requests.map((r) => {
    const e = new Webhook(webhookSecret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      data: { window: { monitor: string; cause: string; signal: string | null } };
    };
    return { type: e.type, window: e.data.window };
  });
}

beforeAll(async () => {
  if (!available) return;
  pager = await startRecorder();
  pushgateway = await startPushgateway();
  await push(1);
  prometheus = await startPrometheus({
    scrapeIntervalS: 1,
    rules: 'groups: [{ name: orders, rules: [{ alert: OrdersStalled, expr: "rate(orders_processed_total[30s]) == 0" }] }]',
    scrape: [{ job: 'pushgateway', target: pushgateway.host, honorLabels: true }],
  });
  // The agent starts once Prometheus has the rule's input: before its first scrape (late on a loaded
  // machine) the input is missing for real, and the first heartbeats would rightly open a window. The
  // lookback (8 s at 1 s scrapes) leaves room for scrapes that lag while npm test loads the machine.
  await waitFor(
    "Prometheus's first scrape of the rule's input",
    async () => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=orders_processed_total`);
      const body = (await res.json()) as { data?: { result?: unknown[] } };
      return (body.data?.result?.length ?? 0) > 0;
    },
    30_000,
    200,
  );
  worker = await startTestWorker('rules', {
    BLINDSPOT_AGENT_SECRETS: JSON.stringify({ [AGENT]: [agentSecret] }),
    BLINDSPOT_CONFIG: watchdogConfig(),
    BLINDSPOT_WEBHOOK_URL: `${pager.url}/events`,
    BLINDSPOT_WEBHOOK_SECRET: webhookSecret,
  });
  agent = startAgentProcess(worker, AGENT, agentSecret, [
    `{ type: prometheus, url: "${prometheus.url}", timeout_s: 2, alert_rules: { lookback: 8s, recheck_s: 5 } }`,
  ]);
}, 120_000);

afterAll(async () => {
  await killAndWait(agent);
  await Promise.all([worker?.stop(), prometheus?.stop(), pushgateway?.stop(), pager?.close()]);
});

describe.skipIf(!available)(
  `an alerting rule that loses its input, end to end${available ? '' : ` (skipped: ${needs.map((n) => n.reason).join('; ')})`}`,
  () => {
    it('pages once with the rule named and cause alert_rules_silent, and resolves when the series is back', async () => {
      await waitFor(
        'live heartbeats',
        async () => d1Query<{ n: number }>(worker.persistTo, `SELECT count(*) AS n FROM agents WHERE id = '${AGENT}'`)[0]?.n === 1,
        30_000,
        500,
      );
      // The rule's input exists: a few heartbeats in, nothing is open.
      await new Promise((r) => setTimeout(r, 4000));
      expect(windows()).toEqual([]);

      await fetch(`${pushgateway.url}/metrics/job/orders`, { method: 'DELETE' });
      const opened = await waitFor(
        'the window and its page',
        async () => events().find((e) => e.type === 'window.opened' && e.window.monitor === 'alert-rules-can-fire'),
        45_000,
        500,
      );
      // The page names the rule, its group and the selector that matches nothing.
      expect(opened.window).toMatchObject({
        cause: 'alert_rules_silent',
        signal: SIGNAL,
      });
      expect(windows()).toEqual([
        {
          monitor: 'alert-rules-can-fire',
          cause: 'alert_rules_silent',
          signal: SIGNAL,
          ended_at: null,
        },
      ]);

      await push(2);
      await waitFor(
        'the resolve',
        async () => events().find((e) => e.type === 'window.closed' && e.window.monitor === 'alert-rules-can-fire'),
        45_000,
        500,
      );
      expect(windows()).toEqual([expect.objectContaining({ monitor: 'alert-rules-can-fire', ended_at: expect.any(Number) })]);
      // Exactly once each: one page, one resolve.
      expect(events().map((e) => e.type)).toEqual(['window.opened', 'window.closed']);
    }, 120_000);
  },
);
