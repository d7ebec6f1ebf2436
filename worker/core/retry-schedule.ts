const BASE_MS = 5_000;
const CAP_MS = 60 * 60 * 1000;
const MIN_MS = 1_000;

/**
 * When to try a failed notification again: exponential backoff with full jitter, never sooner than
 * the receiver's Retry-After. `random` is in [0, 1).
 */
export function nextAttemptAt(attempts: number, now: number, random: number, retryAfterS: number | null): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.min(attempts, 20));
  const jittered = Math.max(MIN_MS, Math.floor(random * ceiling));
  const floor = retryAfterS === null ? 0 : retryAfterS * 1000;
  return now + Math.max(jittered, floor);
}
