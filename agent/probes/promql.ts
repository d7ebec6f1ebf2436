// Any PromQL query as a signal of a chosen kind: discarded samples in Loki or Mimir, Kafka consumer lag,
// a vendor exporter's queue. One series → one signal; several → one signal per series, labelled by it.
import type { Signal, SignalKind } from '../../protocol/heartbeat.ts';
import { instantQuery } from './prometheus-api.ts';
import { base, measured, type Probe, unknownSignal } from './probe.ts';

export interface PromqlOptions {
  name: string;
  url: string;
  query: string;
  kind: SignalKind;
  unit: string;
  timeoutS: number;
  /** What an empty result means: unknown (the default: no data is not good data) or zero. */
  onEmpty: 'unknown' | 'zero';
  /** Labels of the result series copied onto each signal (at most 8); the rest are ignored. */
  seriesLabels: string[];
  labels: Record<string, string>;
}

const RANGE: Partial<Record<SignalKind, [number, number, string]>> = {
  sampling: [0, 1, 'a sampling ratio is between 0 and 1'],
  dropped: [0, Number.POSITIVE_INFINITY, 'a dropped count cannot be negative'],
  saturation: [0, Number.POSITIVE_INFINITY, 'a saturation cannot be negative'],
};

export function promqlProbe(options: PromqlOptions): Probe {
  const labels = { source: 'promql', ...options.labels };
  const one = (extra: Record<string, string> = {}) => base(options.name, options.kind, options.unit, { ...labels, ...extra });
  return {
    name: options.name,
    type: 'promql',
    async collect(): Promise<Signal[]> {
      const r = await instantQuery(options.url, options.query, options.timeoutS);
      if (!r.ok) return [unknownSignal(one(), r.error)];
      const samples = r.value.samples;
      if (samples.length === 0)
        return [
          options.onEmpty === 'zero'
            ? measured(one(), 0)
            : unknownSignal(one(), `the query returned no series (set on_empty: zero if that means 0): ${options.query}`.slice(0, 1024)),
        ];
      if (samples.length > 1 && options.seriesLabels.length === 0) {
        return [
          unknownSignal(
            one(),
            `the query returned ${samples.length} series: aggregate it (max, sum) or list the labels that tell them apart in series_labels`,
          ),
        ];
      }
      return samples.slice(0, 32).map((s) => {
        const extra = Object.fromEntries(options.seriesLabels.map((l) => [l, (s.labels[l] ?? '').slice(0, 256)]));
        const b = one(extra);
        if (!Number.isFinite(s.value)) return unknownSignal(b, `the query returned ${String(s.value)}`);
        const range = RANGE[options.kind];
        if (range && (s.value < range[0] || s.value > range[1]))
          return unknownSignal(b, `the query returned ${s.value}, but ${range[2]}: check the query`);
        return measured(b, s.value);
      });
    },
  };
}
