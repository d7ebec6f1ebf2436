import type { Signal } from '../../protocol/heartbeat.ts';

/** A probe measures one thing about the primary stack. It never throws: what it cannot measure it reports as value null with an error. */
export interface Probe {
  readonly name: string;
  collect(): Promise<Signal[]>;
}

export function unknownSignal(base: Omit<Signal, 'value' | 'error'>, error: string): Signal {
  return { ...base, value: null, error: error.slice(0, 1024) };
}
