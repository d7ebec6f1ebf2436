// Bounds on what one agent's live state may hold, so label churn or a misbehaving agent cannot grow
// its Durable Object without limit. Past a bound the oldest evidence goes first (baselines, quiet
// instances of vanished signals); a heartbeat that would still pass it is refused, naming the limit.

/** Monitor instances per agent (configured, implicit `auto:` and clock skew together). */
export const MAX_INSTANCES = 200;
/** Per instance, the sampling series (signal name + labels) whose baseline is kept. */
export const MAX_BASELINE_SERIES = 16;
/** Per 5-minute bucket, monitors accrued by name; the rest are accrued together under OVERFLOW_MONITOR. */
export const MAX_BUCKET_MONITORS = 256;
/** Per day, signals whose stats are kept by key; the rest are counted under OVERFLOW_SIGNAL. */
export const MAX_DAY_SIGNALS = 256;
export const OVERFLOW_MONITOR = 'auto:~other';
export const OVERFLOW_SIGNAL = '~other';
/**
 * An implicit instance whose signal stopped coming is kept this long without being judged (a probe
 * that skips one round is not an outage), then retired: a vanished label set never pages.
 */
export const AUTO_RETIRE_MS = 10 * 60_000;

/** A heartbeat that would take the agent past a bound: refused (422), nothing else changes. */
export class StateLimitError extends Error {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}
