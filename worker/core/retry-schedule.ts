// When to try a failed notification again, and what an answer means. Pure.
//
// Exponential backoff with full jitter: the first two retries come within 8 s and 16 s, so three
// tries fit in the first minute; then the ceiling doubles from one minute up to five, and the
// notification keeps being retried until the give-up horizon (24 h by default) dead-letters it. A page
// must not wait long once its receiver is back: five minutes at most (and at once when the channel
// delivers anything else: the outbox expedites its backlog).

const EARLY_CEILINGS_MS = [8_000, 16_000];
const LATER_BASE_MS = 60_000;
const CAP_MS = 5 * 60 * 1000;
const MIN_MS = 1_000;

/** `attempts` = tries made so far (≥ 1); `random` in [0, 1). Never sooner than the receiver's Retry-After. */
export function nextAttemptAt(attempts: number, now: number, random: number, retryAfterS: number | null): number {
  const ceiling = retryCeilingMs(attempts);
  const jittered = Math.max(MIN_MS, Math.floor(random * ceiling));
  const floor = retryAfterS === null ? 0 : retryAfterS * 1000;
  return now + Math.max(jittered, floor);
}

export function retryCeilingMs(attempts: number): number {
  const tries = Math.max(1, Math.floor(attempts));
  const early = EARLY_CEILINGS_MS[tries - 1];
  if (early !== undefined) return early;
  return Math.min(CAP_MS, LATER_BASE_MS * 2 ** Math.min(tries - 1 - EARLY_CEILINGS_MS.length, 20));
}

/**
 * What to do after an HTTP answer (null = no answer: refused, reset, timed out). A page is
 * dead-lettered only when sending the same request again cannot succeed; anything an operator or the
 * receiver can fix (a key, a permission, an endpoint being deployed, a redirect) is retried until the
 * give-up horizon, and shows as failing on /healthz meanwhile.
 * - delivered: any 2xx.
 * - gone: 410, the receiver says the endpoint no longer exists; the channel is disabled, visibly.
 * - rejected: the request itself is refused (400, 405, 411, 413, 414, 415, 422); dead-lettered at once, visibly.
 * - retry: no answer, 3xx, 5xx, and every other 4xx (401, 403, 404, 408, 409, 425, 429, ...).
 */
export type Outcome = 'delivered' | 'retry' | 'rejected' | 'gone';

const REQUEST_REFUSED = new Set([400, 405, 411, 413, 414, 415, 422]);

export function outcomeOf(status: number | null): Outcome {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  if (REQUEST_REFUSED.has(status)) return 'rejected';
  return 'retry';
}

/** Retry-After as seconds (delta or HTTP date), bounded to a day; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), 86_400);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, Math.min(86_400, Math.ceil((at - now) / 1000))) : null;
}
