// The OpenTelemetry Collector's own telemetry (its Prometheus endpoint, :8888 by default): items its
// exporters failed to send or to queue, items its receivers refused or failed, items its processors
// dropped, and how full each sending queue is. Collector versions spell counters with and without
// `_total`; both are read. With `healthUrl`, the healthcheckv2 extension's /status (verbose) says
// which pipelines are not healthy (a component reported an error, or the pipeline is not running).
import type { Signal } from '../../protocol/heartbeat.ts';
import { Deltas } from './counters.ts';
import { counter, type Families, samplesOf, scrape, total } from './exposition.ts';
import { getText } from './http.ts';
import { base, measured, type Probe, unknownSignal } from './probe.ts';

export interface CollectorOptions {
  name: string;
  /** The metrics URL itself, e.g. http://127.0.0.1:8888/metrics. */
  url: string;
  timeoutS: number;
  /** The healthcheckv2 extension's status URL (e.g. http://127.0.0.1:13133/status); null: not read. */
  healthUrl: string | null;
  labels: Record<string, string>;
}

/** Pipelines reported from the health answer, at most. */
const MAX_PIPELINES = 32;

const ITEM_TYPES = ['spans', 'metric_points', 'log_records'] as const;

/** What the probe reports, per item type: signal suffix → the Collector's counter family. */
const COUNTERS = [
  ['export.send_failed', 'otelcol_exporter_send_failed_', 'otelcol_exporter_sent_'],
  ['export.enqueue_failed', 'otelcol_exporter_enqueue_failed_', 'otelcol_exporter_sent_'],
  ['receive.refused', 'otelcol_receiver_refused_', 'otelcol_receiver_accepted_'],
  ['receive.failed', 'otelcol_receiver_failed_', 'otelcol_receiver_accepted_'],
  // Processors that drop items themselves (older Collectors: memory_limiter and others). Newer ones
  // only count incoming and outgoing items, whose difference includes what filters drop on purpose.
  ['process.dropped', 'otelcol_processor_dropped_', 'otelcol_exporter_sent_'],
] as const;

export function otelCollectorProbe(options: CollectorOptions): Probe {
  const labels = { source: 'otelcol', ...options.labels };
  const n = options.name;
  const deltas = new Deltas();
  const target = { what: 'the OpenTelemetry Collector', url: options.url, timeoutS: options.timeoutS };
  return {
    name: n,
    type: 'otel_collector',
    async collect(): Promise<Signal[]> {
      const [metrics, health] = await Promise.all([
        scrape(target, ['otelcol_exporter_', 'otelcol_receiver_', 'otelcol_processor_dropped_']),
        options.healthUrl === null ? Promise.resolve(null) : pipelineHealth(options.healthUrl, options.timeoutS, n, labels),
      ]);
      if (!metrics.ok)
        return [
          ...COUNTERS.filter(([suffix]) => suffix !== 'receive.failed' && suffix !== 'process.dropped').map(([suffix]) =>
            unknownSignal(base(`${n}.${suffix}`, 'dropped', 'items', labels), metrics.error),
          ),
          ...(health ?? []),
        ];
      const f = metrics.value;
      const out: Signal[] = [...(health ?? [])];
      for (const [suffix, failed, flowing] of COUNTERS) {
        for (const type of ITEM_TYPES) {
          const failures = samplesOf(f, counter(`${failed}${type}`));
          // A pipeline the Collector does not run has no counters at all: nothing to report for it.
          if (failures === null && samplesOf(f, counter(`${flowing}${type}`)) === null) continue;
          // Counters newer or older Collectors do not have at all are not reported as 0.
          if (failures === null && suffix !== 'export.send_failed' && suffix !== 'export.enqueue_failed' && suffix !== 'receive.refused')
            continue;
          const b = base(`${n}.${suffix}`, 'dropped', type, { ...labels, signal: type });
          out.push(measured(b, deltas.next(`${suffix}:${type}`, total(failures ?? []))));
        }
      }
      out.push(...queueFill(f, n, labels));
      if (out.length === 0) {
        return [
          unknownSignal(
            base(`${n}.export.send_failed`, 'dropped', 'items', labels),
            `no otelcol_exporter_* or otelcol_receiver_* metrics at ${options.url}: is this the Collector's own telemetry endpoint (service.telemetry.metrics, default :8888/metrics), and does it run a pipeline?`,
          ),
        ];
      }
      return out;
    },
  };
}

interface HealthAnswer {
  healthy?: boolean;
  status?: string;
  error?: string;
  components?: Record<string, HealthAnswer>;
}

/**
 * Per pipeline, 1 while it is not StatusOK (a component reported a recoverable, permanent or fatal
 * error, or it is starting or stopping), else 0; unknown when the extension cannot be read. The
 * extension answers 500 or 503 with the same JSON when unhealthy: that answer is read too.
 */
export async function pipelineHealth(url: string, timeoutS: number, n: string, labels: Record<string, string>): Promise<Signal[]> {
  const target = new URL(url);
  target.searchParams.set('verbose', '');
  const b = (pipeline?: string) =>
    base(
      `${n}.pipeline.unhealthy`,
      'dropped',
      'pipelines',
      pipeline === undefined ? labels : { ...labels, pipeline: pipeline.slice(0, 256) },
    );
  const answer = await getText({ what: 'the Collector health check', url: target, timeoutS }, 'application/json');
  const text = answer.ok ? answer.value : (answer.body ?? null);
  let parsed: HealthAnswer | null = null;
  try {
    parsed = text === null ? null : (JSON.parse(text) as HealthAnswer);
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.status !== 'string')
    return [
      unknownSignal(
        b(),
        answer.ok
          ? `the Collector health check at ${url} did not answer healthcheckv2 status JSON: is it the extension's status path (use_v2: true)?`
          : answer.error,
      ),
    ];
  const pipelines = Object.entries(parsed.components ?? {})
    .filter(([key]) => key.startsWith('pipeline:'))
    .slice(0, MAX_PIPELINES);
  if (pipelines.length === 0)
    return [
      unknownSignal(b(), `the Collector health check at ${url} lists no pipeline: ask it with ?verbose (healthcheckv2, use_v2: true)`),
    ];
  return pipelines.map(([key, p]) => measured(b(key.slice('pipeline:'.length)), p.status === 'StatusOK' ? 0 : 1));
}

function queueFill(f: Families, n: string, labels: Record<string, string>): Signal[] {
  const sizes = samplesOf(f, ['otelcol_exporter_queue_size']) ?? [];
  const capacities = samplesOf(f, ['otelcol_exporter_queue_capacity']) ?? [];
  return sizes.map((s) => {
    const exporter = s.labels.exporter ?? '';
    const b = base(`${n}.export.queue_fill`, 'saturation', 'ratio', { ...labels, exporter: exporter.slice(0, 256) });
    const capacity = total(capacities, (l) => (l.exporter ?? '') === exporter);
    return capacity > 0
      ? measured(b, s.value / capacity)
      : unknownSignal(b, `otelcol_exporter_queue_capacity for exporter "${exporter}" is missing or 0`);
  });
}
