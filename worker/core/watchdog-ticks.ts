// The watchdog's own liveness. Each sweep records a tick; a tick that comes more than twice the
// period after the last one means the watchdog was not evaluating in between: that is a gap.
export const SWEEP_PERIOD_MS = 60_000;

export interface TickState {
  lastTickAt: number;
}

export interface Gap {
  id: string;
  /** When the first missing tick was due. */
  startedAt: number;
  endedAt: number;
}

export function recordTick(prev: TickState | null, now: number): { next: TickState; gap: Gap | null } {
  if (prev === null || now - prev.lastTickAt <= 2 * SWEEP_PERIOD_MS)
    return { next: { lastTickAt: Math.max(now, prev?.lastTickAt ?? 0) }, gap: null };
  const startedAt = prev.lastTickAt + SWEEP_PERIOD_MS;
  return { next: { lastTickAt: now }, gap: { id: `watchdog:gap:${startedAt}`, startedAt, endedAt: now } };
}
