// Counters become "how many since the last heartbeat": the probe remembers each counter's last value.
// A counter that went down was reset (the component restarted): everything counted since is new.
export class Deltas {
  private readonly last = new Map<string, number>();

  /** The increase since the previous call for `key`; 0 on the first call, which only sets the baseline. */
  next(key: string, value: number): number {
    const previous = this.last.get(key);
    this.last.set(key, value);
    if (previous === undefined) return 0;
    return value >= previous ? value - previous : value;
  }

  /** Forgets every baseline: the next reading of each counter only sets it again (after a restart). */
  reset(): void {
    this.last.clear();
  }
}

/** How long a restart counts towards a restart loop. */
export const RESTART_MEMORY_MS = 10 * 60_000;

/**
 * A component's restarts, told by its `process_start_time_seconds`: a new start time is a new process.
 * After one, its counters start again from what the new process counted: the jump, and what a clean
 * shutdown and the start dropped, are not counted as losses. Restarts within the last ten minutes are
 * kept, so a restart loop shows however quickly each restart recovers.
 */
export class Restarts {
  private start: number | null = null;
  private seen: number[] = [];

  constructor(private readonly clock: () => number = Date.now) {}

  /** Whether the process restarted since the last reading. */
  observe(startTime: number | undefined): boolean {
    if (startTime === undefined || !Number.isFinite(startTime)) return false;
    const restarted = this.start !== null && startTime !== this.start;
    this.start = startTime;
    if (restarted) this.seen.push(this.clock());
    return restarted;
  }

  /** Restarts seen in the last ten minutes. */
  recent(): number {
    const since = this.clock() - RESTART_MEMORY_MS;
    this.seen = this.seen.filter((t) => t > since);
    return this.seen.length;
  }
}
