// `blindspot-agent doctor`: runs every probe once, checks every alerting rule can fire, and checks the
// Worker can be reached, then prints a table — OK or FAIL, the reason, and what to do about it — and
// the alerting rules that cannot fire, each with the selector that matches nothing.
import { sign } from '../protocol/signature.ts';
import type { AgentConfig } from './config.ts';
import { table } from './judge.ts';
import { buildHeartbeat } from './heartbeat.ts';
import { getText, send } from './probes/http.ts';
import { alertRulesChecker, type RuleVerdict, type RulesCheck } from './probes/alert-rules.ts';
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
  return HINTS.find(([re]) => re.test(reason))?.[1] ?? "see the reason; docs/running-the-agent.md (Probes) lists each probe's settings";
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

export interface RulesReport {
  check: Check;
  /** Every alerting rule that cannot fire now, with the selectors it misses. */
  cannotFire: RuleVerdict[];
}

/** Doctor asks every selector at once (its run is one-off), at most this many per Prometheus. */
const DOCTOR_MAX_QUERIES = 500;

/** For each Prometheus probe that checks alerting rules: which of its rules can fire today. */
export async function ruleReports(config: AgentConfig): Promise<RulesReport[]> {
  const targets = config.probes.flatMap((p) => (p.type === 'prometheus' && p.alert_rules !== false ? [{ p, rules: p.alert_rules }] : []));
  return Promise.all(
    targets.map(async ({ p, rules }) => {
      const checker = alertRulesChecker({
        url: p.url,
        timeoutS: p.timeout_s,
        lookback: rules.lookback,
        recheckS: 0,
        maxQueries: DOCTOR_MAX_QUERIES,
      });
      return rulesReportOf(`${p.name}.rules`, await checker.check(), rules.lookback);
    }),
  );
}

export function rulesReportOf(name: string, r: RulesCheck, lookback: string): RulesReport {
  const type = 'alert_rules';
  if (!r.ok) return { check: { name, type, ok: false, reason: r.error, hint: hintFor(r.error) }, cannotFire: [] };
  const cannotFire = r.rules.filter((v) => v.state === 'cannot_fire');
  const unknown = r.rules.filter((v) => v.state === 'unknown');
  const can = r.rules.length - cannotFire.length - unknown.length;
  const counts = `${can} of ${r.rules.length} alerting rule(s) can fire`;
  if (cannotFire.length > 0)
    return {
      check: {
        name,
        type,
        ok: false,
        reason: `${counts}; ${cannotFire.length} cannot: their input series matched nothing over the last ${lookback} (listed below)`,
        hint: 'a metric was renamed, relabelled or its exporter dropped: fix the rule or bring the series back',
      },
      cannotFire,
    };
  if (unknown.length > 0)
    return {
      check: {
        name,
        type,
        ok: false,
        reason: `${counts}; ${unknown.length} could not be checked: ${unknown[0]?.error ?? ''}`,
        hint: hintFor(unknown[0]?.error ?? ''),
      },
      cannotFire,
    };
  return { check: { name, type, ok: true, reason: counts, hint: '' }, cannotFire };
}

const SIGNATURE_HINTS: [RegExp, string][] = [
  [/unknown_agent/, 'the Worker has no secret for this agent_id: add it to BLINDSPOT_AGENT_SECRETS (or check agent_id)'],
  [/agent_disabled/, "the Worker refuses this agent's secret setting (shared with another agent, or malformed): see its /healthz"],
  [/invalid_signature/, "this agent's secret is not one the Worker has for it: copy the secret again"],
  [/timestamp_out_of_range/, "this host's clock is off: run NTP (chrony, systemd-timesyncd)"],
  [/interval_too_long|grace_too_long/, "lower interval_s or grace_s to what the Worker's silence settings allow"],
  [/HTTP 404/, 'this Worker predates the dry run: deploy the current Worker'],
];

/** A signed heartbeat the Worker checks like a real one but does not record: is this agent taken? */
export async function checkSignature(config: AgentConfig, now: () => number = Date.now): Promise<Check> {
  const body = buildHeartbeat({
    seq: 1,
    boot: 'doctor',
    intervalS: config.interval_s,
    graceS: config.grace_s,
    signals: [],
    now: new Date(now()),
  });
  const id = `msg_doctor_${now().toString(36)}`;
  const timestamp = Math.floor(now() / 1000);
  const url = new URL(`/v1/agents/${encodeURIComponent(config.agent_id)}/check`, config.worker_url);
  const r = await send({ what: 'the Worker', url, timeoutS: config.send_timeout_s }, 'POST', body, 'application/json', {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await sign([config.secret], id, timestamp, body),
  });
  const name = 'signature';
  if (r.ok) return { name, type: 'heartbeat', ok: true, reason: `the Worker takes agent "${config.agent_id}" with this secret`, hint: '' };
  return {
    name,
    type: 'heartbeat',
    ok: false,
    reason: r.error,
    hint: SIGNATURE_HINTS.find(([re]) => re.test(r.error))?.[1] ?? 'check worker_url and that this host may reach it (proxy, firewall)',
  };
}

export async function doctor(config: AgentConfig, probes: readonly Probe[]): Promise<{ checks: Check[]; rules: RulesReport[] }> {
  const [worker, signature, rules, ...runs] = await Promise.all([
    checkWorker(config),
    checkSignature(config),
    ruleReports(config),
    ...probes.map((p) => runProbe(p)),
  ]);
  return { checks: [...runs.map(checkOfRun), ...rules.map((r) => r.check), worker, signature], rules };
}

/** The rules that cannot fire, one row each: what a reviewer needs to fix them. */
export function cannotFireTable(reports: readonly RulesReport[]): string {
  const rows = reports.flatMap((r) => r.cannotFire.map((v) => [v.rule, v.group, v.file, v.missing.join(' ')]));
  return rows.length === 0 ? '' : table(['ALERTING RULE THAT CANNOT FIRE', 'GROUP', 'FILE', 'NO SERIES FOR'], rows);
}

export function doctorTable(checks: readonly Check[]): string {
  return table(
    ['', 'PROBE', 'TYPE', 'REASON', 'FIX'],
    checks.map((c) => [c.ok ? 'OK' : 'FAIL', c.name, c.type, c.reason, c.hint]),
  );
}
