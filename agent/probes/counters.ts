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
}
