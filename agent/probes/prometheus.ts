// Prometheus as a whole: is it ingesting, are its targets up, do its rules evaluate, do its alerts
// leave for Alertmanager, does remote write keep up, and how fresh is the data of each pipeline.
// Ages are computed from Prometheus's own clock, so the agent's clock does not enter into them.
import type { Signal } from '../../protocol/heartbeat.ts';
import { Deltas } from './counters.ts';
import { counter, type Families, samplesOf, scrape, total } from './exposition.ts';
import { under } from './http.ts';
import { instantQuery, single } from './prometheus-api.ts';
import { base, measured, type Probe, signalOf, unknownSignal } from './probe.ts';
import { queryFreshness } from './prometheus-freshness.ts';

export interface FreshnessTarget {
  /** Signal name; default metrics.freshness. */
  name: string;
  /** A series selector, or a scrape job: exactly one. */
  selector?: string;
  job?: string;
  /** How far back a sample still counts; beyond it the freshness is unknown. */
  lookback: string;
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  name: string;
  url: string;
  timeoutS: number;
  freshness: FreshnessTarget[];
  /** auto: report remote-write lag when Prometheus has remote-write queues; true: always (unknown without); false: never. */
  remoteWrite: boolean | 'auto';
  labels: Record<string, string>;
}

export const TARGETS_DOWN_QUERY = 'count(up == 0) or vector(0)';

export function prometheusProbe(options: PrometheusOptions): Probe {
  const labels = { source: 'prometheus', ...options.labels };
  const n = options.name;
  const deltas = new Deltas();
  const sig = {
    up: base(`${n}.up`, 'freshness', 's', labels),
    targetsDown: base(`${n}.targets_down`, 'dropped', 'targets', labels),
    rulesFailed: base(`${n}.rules.failed`, 'dropped', 'evaluations', labels),
    rulesMissed: base(`${n}.rules.missed`, 'dropped', 'iterations', labels),
    dropped: base(`${n}.notifications.dropped`, 'dropped', 'alerts', labels),
    queueFill: base(`${n}.notifications.queue_fill`, 'saturation', 'ratio', labels),
  };
  const target = { what: 'Prometheus', url: under(options.url, 'metrics'), timeoutS: options.timeoutS };
  const read = [
    'prometheus_tsdb_head_max_time',
    'prometheus_rule_',
    'prometheus_notifications_',
    'prometheus_remote_storage_highest_timestamp_in_seconds',
    'prometheus_remote_storage_queue_highest_sent_timestamp_seconds',
  ];
  return {
    name: n,
    type: 'prometheus',
    async collect(): Promise<Signal[]> {
      const [metrics, down, ...fresh] = await Promise.all([
        scrape(target, read),
        instantQuery(options.url, TARGETS_DOWN_QUERY, options.timeoutS),
        ...options.freshness.map((f) =>
          queryFreshness(options.url, f.job !== undefined ? { job: f.job } : { selector: f.selector ?? '' }, options.timeoutS, f.lookback),
        ),
      ]);
      const out: Signal[] = [];
      // Ingestion: how old is the newest sample Prometheus stored, by Prometheus's clock at query time.
      if (!metrics.ok) out.push(unknownSignal(sig.up, metrics.error));
      else if (!down.ok) out.push(unknownSignal(sig.up, down.error));
      else out.push(signalOf(sig.up, ingestAge(metrics.value, down.value.time)));
      out.push(down.ok ? signalOf(sig.targetsDown, single(down.value, TARGETS_DOWN_QUERY)) : unknownSignal(sig.targetsDown, down.error));
      options.freshness.forEach((f, i) => {
        const b = base(f.name, 'freshness', 's', { ...labels, ...f.labels });
        out.push(signalOf(b, fresh[i] ?? { error: 'no answer' }));
      });
      if (!metrics.ok) {
        for (const b of [sig.rulesFailed, sig.rulesMissed, sig.dropped, sig.queueFill]) out.push(unknownSignal(b, metrics.error));
        if (options.remoteWrite === true) out.push(unknownSignal(base(`${n}.remote_write.lag`, 'queue_age', 's', labels), metrics.error));
        return out;
      }
      const f = metrics.value;
      // Prometheus makes the rule counters per rule group: none at all means no rules, so none failed.
      const noRules = samplesOf(f, ['prometheus_rule_group_rules']) === null;
      out.push(noRules ? measured(sig.rulesFailed, 0) : counterDelta(sig.rulesFailed, f, 'prometheus_rule_evaluation_failures', deltas));
      out.push(
        noRules ? measured(sig.rulesMissed, 0) : counterDelta(sig.rulesMissed, f, 'prometheus_rule_group_iterations_missed', deltas),
      );
      out.push(counterDelta(sig.dropped, f, 'prometheus_notifications_dropped', deltas));
      out.push(signalOf(sig.queueFill, queueFill(f)));
      if (options.remoteWrite !== false) out.push(...remoteWriteLag(f, n, labels, options.remoteWrite === true));
      return out;
    },
  };
}

function ingestAge(f: Families, serverTime: number): { value: number } | { error: string } {
  const head = samplesOf(f, ['prometheus_tsdb_head_max_time'])?.[0]?.value;
  if (head === undefined)
    return {
      error: 'prometheus_tsdb_head_max_time is missing from /metrics: is this Prometheus (not an agent-mode or compatible server)?',
    };
  if (!Number.isFinite(head) || head <= 0) return { error: 'Prometheus has stored no sample yet: it sees nothing' };
  if (!Number.isFinite(serverTime)) return { error: 'Prometheus did not say its query time' };
  return { value: Math.max(0, serverTime - head / 1000) };
}

/** A counter family as "how many since the last heartbeat"; unknown when the component does not expose it. */
export function counterDelta(
  b: Parameters<typeof measured>[0],
  f: Families,
  family: string,
  deltas: Deltas,
  where?: (labels: Record<string, string>) => boolean,
): Signal {
  const samples = samplesOf(f, counter(family));
  if (samples === null) return unknownSignal(b, `${family}_total is missing from /metrics`);
  return measured(b, deltas.next(`${b.name}${JSON.stringify(b.labels)}`, total(samples, where)));
}

function queueFill(f: Families): { value: number } | { error: string } {
  const length = samplesOf(f, ['prometheus_notifications_queue_length']);
  const capacity = samplesOf(f, ['prometheus_notifications_queue_capacity']);
  if (length === null || capacity === null) return { error: 'prometheus_notifications_queue_length/_capacity are missing from /metrics' };
  const cap = total(capacity);
  return cap > 0 ? { value: total(length) / cap } : { error: 'prometheus_notifications_queue_capacity is 0' };
}

/** Per remote-write queue: how far the newest sample sent lags behind the newest sample ingested. */
function remoteWriteLag(f: Families, n: string, labels: Record<string, string>, required: boolean): Signal[] {
  const newest = samplesOf(f, ['prometheus_remote_storage_highest_timestamp_in_seconds'])?.[0]?.value;
  const sent = samplesOf(f, ['prometheus_remote_storage_queue_highest_sent_timestamp_seconds']) ?? [];
  const b = (remote: string) =>
    base(`${n}.remote_write.lag`, 'queue_age', 's', remote === '' ? labels : { ...labels, remote: remote.slice(0, 256) });
  if (sent.length === 0)
    return required
      ? [
          unknownSignal(
            b(''),
            'remote_write: true, but Prometheus has no remote-write queue (prometheus_remote_storage_queue_highest_sent_timestamp_seconds is missing)',
          ),
        ]
      : [];
  if (newest === undefined)
    return sent.map((s) =>
      unknownSignal(b(s.labels.remote_name ?? ''), 'prometheus_remote_storage_highest_timestamp_in_seconds is missing from /metrics'),
    );
  return sent.map((s) => measured(b(s.labels.remote_name ?? ''), Math.max(0, newest - s.value)));
}
