import type { Signal, SignalKind } from '../../protocol/heartbeat.ts';

/** A probe measures one thing about the primary stack. It never throws: what it cannot measure it reports as value null with an error. */
export interface Probe {
  readonly name: string;
  /** The probe's type as configured, for `doctor`. */
  readonly type?: string;
  collect(): Promise<Signal[]>;
}

export type SignalBase = Omit<Signal, 'value' | 'error'>;

export function unknownSignal(base: SignalBase, error: string): Signal {
  return { ...base, value: null, error: error.slice(0, 1024) };
}

/** A measured value to six significant digits (a 0.0001 sampling ratio stays 0.0001), so heartbeats stay small. */
export function measured(base: SignalBase, value: number): Signal {
  return { ...base, value: Number(value.toPrecision(6)), error: null };
}

/** Either outcome in one call: a number, or the reason there is none. */
export function signalOf(base: SignalBase, result: { value: number } | { error: string }): Signal {
  return 'value' in result ? measured(base, result.value) : unknownSignal(base, result.error);
}

export const base = (name: string, kind: SignalKind, unit: string, labels: Record<string, string>): SignalBase => ({
  name,
  kind,
  unit,
  labels,
});

/**
 * Signals read through another component carry `via`: the name of the signal that says whether that
 * component answers. While it is bad, the Worker records their trouble without paging: one outage,
 * one page. Probes that ask a Prometheus another `prometheus` probe watches are read through its
 * `<name>.up`.
 */
export function readThrough(probe: Probe, via: string, except: ReadonlySet<string> = new Set()): Probe {
  return {
    ...probe,
    async collect() {
      return (await probe.collect()).map((s) => (except.has(s.name) || s.via !== undefined ? s : { ...s, via }));
    },
  };
}

/**
 * Code-point order, the same on every host. (localeCompare would load ICU's collation data: about 4 MB
 * of resident memory for an order nobody reads as language.)
 */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
