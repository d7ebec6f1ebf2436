import { PROTOCOL_VERSION, type Signal } from '../protocol/heartbeat.ts';

export interface HeartbeatInput {
  seq: number;
  boot: string;
  intervalS: number;
  graceS: number | undefined;
  signals: Signal[];
  now: Date;
  /** The last heartbeat of a deliberate shutdown: the Worker expects the silence after it. */
  stopping?: boolean;
}

export function buildHeartbeat(input: HeartbeatInput): string {
  return JSON.stringify({
    v: PROTOCOL_VERSION,
    seq: input.seq,
    boot: input.boot,
    sent_at: input.now.toISOString(),
    interval_s: input.intervalS,
    ...(input.graceS === undefined ? {} : { grace_s: input.graceS }),
    ...(input.stopping ? { stopping: true } : {}),
    signals: input.signals,
  });
}

/** Unique per heartbeat (boot is unique per process run) and the same across its retries. */
export function heartbeatId(boot: string, seq: number): string {
  return `hb_${boot}_${seq}`;
}
