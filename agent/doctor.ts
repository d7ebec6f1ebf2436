// `blindspot-agent doctor`: runs every probe once and checks the Worker can be reached, then prints a
// table — OK or FAIL, the reason, and what to do about it.
import type { AgentConfig } from './config.ts';
import { table } from './judge.ts';
import { getText } from './probes/http.ts';
import type { Probe } from './probes/probe.ts';
import { type ProbeRun, runProbe } from './probes/registry.ts';

export interface Check {
  name: string;
  type: string;
  ok: boolean;
  reason: string;
  hint: string;
}

const HINTS: [RegExp, string][] = [
  [
    /ECONNREFUSED|cannot reach .* ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/,
    'nothing answers there: is it running, and is the url (host and port) right?',
  ],
  [/no answer within|gave no answer/, 'it did not answer in time: raise timeout_s, or check what slows it'],
  [/HTTP 401|HTTP 403/, 'it wants credentials: put an authenticating proxy in front, or allow the agent in'],
  [/HTTP 404/, 'wrong path: url is the base URL (http://host:9090), or for otel_collector the metrics URL itself'],
  [/without JSON/, 'that is not the Prometheus API: point url at Prometheus (or Thanos/Mimir) itself'],
  [/matched no series|returned no series/, 'the query finds nothing: try it in the Prometheus UI; check the selector or job name'],
  [/bad_data|parse error|query failed \(HTTP 400\)/, 'the PromQL does not parse: try it in the Prometheus UI'],
  [/no canary has come through/, 'add the Pushgateway to Prometheus scrape_configs (honor_labels: true) and wait one scrape interval'],
  [/canary push failed/, 'check pushgateway_url: the agent must be able to PUT to it'],
  [/is missing from \/metrics/, 'this version does not export that metric: check the url points at the right component'],
  [/no otelcol_exporter_/, 'point url at the Collector telemetry endpoint (service.telemetry.metrics, default :8888/metrics)'],
  [/stored no sample/, 'Prometheus scrapes nothing yet: check its scrape_configs'],
];

export function hintFor(reason: string): string {
  return HINTS.find(([re]) => re.test(reason))?.[1] ?? "see the reason; docs/operations.md (Probes) lists each probe's settings";
}

export function checkOfRun(run: ProbeRun): Check {
  const failed = run.signals.filter((s) => s.value === null || (s.error ?? '') !== '');
  const type = run.probe.type ?? 'custom';
  if (failed.length === 0)
    return {
      name: run.probe.name,
      type,
      ok: true,
      reason: `${run.signals.length} signal(s) measured in ${Math.round(run.durationMs)} ms`,
      hint: '',
    };
  const first = failed[0]?.error ?? 'no value';
  const reason = `${failed.length} of ${run.signals.length} signal(s) failed: ${first}`;
  return { name: run.probe.name, type, ok: false, reason, hint: hintFor(first) };
}

export async function checkWorker(config: AgentConfig): Promise<Check> {
  const url = new URL('/healthz', config.worker_url);
  const r = await getText({ what: 'the Worker', url, timeoutS: config.send_timeout_s }, 'application/json');
  // /healthz answers 503 when a notification channel is broken: the Worker is reachable all the same.
  if (r.ok) return { name: 'worker', type: 'heartbeat', ok: true, reason: `${url.origin} answered /healthz`, hint: '' };
  return r.status === 503
    ? {
        name: 'worker',
        type: 'heartbeat',
        ok: true,
        reason: `${url.origin} is reachable; its /healthz reports a problem of its own (see there)`,
        hint: '',
      }
    : {
        name: 'worker',
        type: 'heartbeat',
        ok: false,
        reason: r.error,
        hint: 'check worker_url and that this host may reach it (proxy, firewall)',
      };
}

export async function doctor(config: AgentConfig, probes: readonly Probe[]): Promise<Check[]> {
  const [worker, ...runs] = await Promise.all([checkWorker(config), ...probes.map((p) => runProbe(p))]);
  return [...runs.map(checkOfRun), worker];
}

export function doctorTable(checks: readonly Check[]): string {
  return table(
    ['', 'PROBE', 'TYPE', 'REASON', 'FIX'],
    checks.map((c) => [c.ok ? 'OK' : 'FAIL', c.name, c.type, c.reason, c.hint]),
  );
}
