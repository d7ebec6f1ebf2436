// The Worker's clock as the agent sees it. The Worker judges time (deadlines run from when it
// received a heartbeat) and refuses a webhook-timestamp more than 5 minutes from its own clock, so an
// agent whose clock is off signs with the Worker's time instead: every answer carries a Date header,
// and the offset learned from it is added to the agent's clock for webhook-timestamp and sent_at.
// Date has one-second resolution; below SKEW_TOLERANCE_MS the agent's own clock is kept.

/** Offsets smaller than this are Date's rounding and the round trip, not a wrong clock. */
export const SKEW_TOLERANCE_MS = 3_000;
/**
 * An answer that took longer than this says too little: the Worker's Date could be from anywhere in
 * the round trip, and half of it is the estimate's error (a request held through a cut link and
 * answered 20 s later would move every spooled sent_at by up to 10 s).
 */
export const MAX_ROUND_TRIP_MS = 4_000;

export class WorkerClock {
  private offset = 0;

  constructor(
    private readonly local: () => number = Date.now,
    /** Told when the offset in use changes: the agent logs it, since a wrong clock needs fixing. */
    private readonly onChange: (offsetMs: number, previousMs: number) => void = () => {},
  ) {}

  /** The agent's best reading of the Worker's clock, in ms. */
  now(): number {
    return this.local() + this.offset;
  }

  /** The agent's own clock, for the times around a request that observe() takes. */
  localNow(): number {
    return this.local();
  }

  get offsetMs(): number {
    return this.offset;
  }

  /**
   * Learns from one answer: `date` is its Date header, `sentAt` and `receivedAt` the agent's clock
   * around the request. Returns whether the offset in use changed.
   */
  observe(date: string | null, sentAt: number, receivedAt: number): boolean {
    if (date === null) return false;
    const workerAt = Date.parse(date);
    if (!Number.isFinite(workerAt) || receivedAt < sentAt || receivedAt - sentAt > MAX_ROUND_TRIP_MS) return false;
    // The Worker's second [workerAt, workerAt + 1000) was current halfway through the round trip.
    const estimate = workerAt + 500 - (sentAt + receivedAt) / 2;
    const next = Math.abs(estimate) < SKEW_TOLERANCE_MS ? 0 : Math.round(estimate);
    if (Math.abs(next - this.offset) < SKEW_TOLERANCE_MS && !(next === 0 && this.offset !== 0)) return false;
    const previous = this.offset;
    this.offset = next;
    this.onChange(next, previous);
    return true;
  }
}
