// Work that concurrent requests share without sharing a promise. workerd ties a promise to the request
// that made it: under a flood of readers on wrangler dev, readers awaiting another reader's build were
// answered 500 ("Cannot perform I/O on behalf of a different request") or left hanging until their
// client gave up. So the first reader does the work in its own request and leaves the result behind as
// plain data; the others look for it on their own timers, and do the work themselves if it failed, or
// has not ended within its bound (its request may have gone away, leaving it unfinished for ever). The
// first reader hands the work to waitUntil too: on Cloudflare a client that disconnects cancels its
// request, but not what it handed to waitUntil, so the others get the result rather than wait out the bound.

export interface SharedRun<T> {
  readonly startedAt: number;
  value?: T;
  failed?: boolean;
}

/** How often a waiting reader looks for the result. */
const POLL_MS = 5;

/**
 * The run's result once it ends, waiting on this request's own timers; undefined when it failed, or had
 * not ended `maxWaitMs` after it started (then the caller does the work itself).
 */
export async function resultOf<T>(run: SharedRun<T>, maxWaitMs: number): Promise<T | undefined> {
  while (run.value === undefined && run.failed !== true && Date.now() < run.startedAt + maxWaitMs)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  return run.value;
}

/** Runs `work` as the shared run `run` (recording its result or failure for those waiting on it). */
export async function runShared<T>(run: SharedRun<T>, work: () => Promise<T>): Promise<T> {
  try {
    run.value = await work();
    return run.value;
  } catch (e: unknown) {
    run.failed = true;
    throw e;
  }
}
