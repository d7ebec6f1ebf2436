// The objects' clock: every decision takes `now` from it, and every wait goes through it, so tests
// and the simulator move time instead of waiting.
export interface Clock {
  now(): number;
  /** Resolves after `ms` (the only wait an object makes: how long a heartbeat waits for D1). */
  sleep?(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Waits for `work` at most `ms` (on the clock's own sleep when it has one); never throws. */
export async function waitAtMost(work: Promise<unknown>, ms: number, clock: Clock): Promise<void> {
  if (clock.sleep !== undefined) return void (await Promise.race([work.catch(() => undefined), clock.sleep(ms)]));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Waits for `work` at most `ms` (0: not at all), as waitAtMost; if it has not ended by then, the
 * object keeps it alive in the background (waitUntil) and runs `after` once it does. Never throws:
 * how a decision hands D1 its copy without a D1 that hangs holding the decision.
 */
export async function waitBriefly(
  ctx: { waitUntil(p: Promise<unknown>): void },
  work: Promise<unknown>,
  ms: number,
  clock: Clock,
  after: () => Promise<unknown>,
): Promise<void> {
  let ended = false;
  const watched = work
    .catch((e: unknown) => console.error('work left to finish in the background failed:', e))
    .finally(() => (ended = true));
  if (ms > 0) await waitAtMost(watched, ms, clock);
  if (!ended) ctx.waitUntil(watched.then(after).catch(() => undefined));
}

/**
 * How long the Worker's own D1 reads wait before going on without them: the public surfaces (which
 * then show the kept copy), /metrics, /healthz, and the sweep's lists. A D1 that hangs must not hang
 * them. A seam, so tests need not wait it out.
 */
export const d1Wait = { ms: 2_000 };

/** What `within` rejects with when the work did not answer in time. */
export class NoAnswer extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'NoAnswer';
  }
}

/**
 * `work`, or a rejection naming `what` once `ms` of real time have passed: how the Worker's own
 * reads (the public surfaces, /metrics) keep a D1 that hangs from hanging them. The work is left to
 * finish or fail on its own.
 */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new NoAnswer(what, ms)), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
