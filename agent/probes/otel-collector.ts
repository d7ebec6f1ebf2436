// The OpenTelemetry Collector's own telemetry (its Prometheus endpoint, :8888 by default): items its
// exporters failed to send or to queue, items its receivers refused, and how full each sending queue is.
// Collector versions spell counters with and without `_total`; both are read.
import type { Signal } from '../../protocol/heartbeat.ts';
import { Deltas } from './counters.ts';
import { counter, type Families, samplesOf, scrape, total } from './exposition.ts';
import { base, measured, type Probe, unknownSignal } from './probe.ts';

export interface CollectorOptions {
  name: string;
  /** The metrics URL itself, e.g. http://127.0.0.1:8888/metrics. */
  url: string;
  timeoutS: number;
  labels: Record<string, string>;
}

const ITEM_TYPES = ['spans', 'metric_points', 'log_records'] as const;

/** What the probe reports, per item type: signal suffix → the Collector's counter family. */
const COUNTERS = [
  ['export.send_failed', 'otelcol_exporter_send_failed_', 'otelcol_exporter_sent_'],
  ['export.enqueue_failed', 'otelcol_exporter_enqueue_failed_', 'otelcol_exporter_sent_'],
  ['receive.refused', 'otelcol_receiver_refused_', 'otelcol_receiver_accepted_'],
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
      const metrics = await scrape(target, ['otelcol_exporter_', 'otelcol_receiver_']);
      if (!metrics.ok) return COUNTERS.map(([suffix]) => unknownSignal(base(`${n}.${suffix}`, 'dropped', 'items', labels), metrics.error));
      const f = metrics.value;
      const out: Signal[] = [];
      for (const [suffix, failed, flowing] of COUNTERS) {
        for (const type of ITEM_TYPES) {
          const failures = samplesOf(f, counter(`${failed}${type}`));
          // A pipeline the Collector does not run has no counters at all: nothing to report for it.
          if (failures === null && samplesOf(f, counter(`${flowing}${type}`)) === null) continue;
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
