// The public answers themselves, kept for as long as a browser or proxy may keep them (their own
// max-age, which the evidence bounds, with an Age header counting what is used up) and no longer than
// the refresh period from when the data behind them was read: a flood of readers costs one rendering
// per answer per period, not one per request, and no answer is more than one period behind what the
// agents' objects were told. Only 200s are kept, per Worker environment, a bounded number of them.
import type { Env } from '../env.ts';
import { resultOf, runShared, type SharedRun } from './shared-run.ts';
import { refreshMs } from './state.ts';

interface Kept {
  builtAt: number;
  until: number;
  status: number;
  headers: [string, string][];
  body: string;
}

const MAX_KEPT = 64;
/**
 * A builder sets this header to when the data behind its answer was read (ms since the epoch): the
 * answer is kept no longer than one refresh period from then. It never leaves the Worker.
 */
export const GATHERED_AT = 'x-blindspot-gathered-at';
const kept = new WeakMap<Env, Map<string, Kept>>();
/** Builds under way: readers arriving while an answer is being built wait for that one (public/shared-run.ts). */
const building = new WeakMap<Env, Map<string, SharedRun<Kept>>>();
/** How long a reader waits for another's build before building the answer itself. */
const BUILD_WAIT_MS = 5_000;

const maxAgeMs = (res: Response) => Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1] ?? 0) * 1000;

/** The answer for `key` (the path): kept if still good at `now`, else built and kept. */
export async function keptAnswer(
  env: Env,
  key: string,
  now: number,
  build: () => Promise<Response>,
  ctx?: { waitUntil(p: Promise<unknown>): void },
): Promise<Response> {
  const answers = kept.get(env) ?? new Map<string, Kept>();
  kept.set(env, answers);
  const hit = answers.get(key);
  if (hit !== undefined && now >= hit.builtAt && now < hit.until) {
    // Age tells every cache downstream how much of max-age this answer has already used.
    const headers = new Headers(hit.headers);
    headers.set('age', String(Math.floor((now - hit.builtAt) / 1000)));
    return new Response(hit.body, { status: hit.status, headers });
  }
  if (refreshMs(env) === 0) return answer(await keepable(await build()));
  const pending = building.get(env) ?? new Map<string, SharedRun<Kept>>();
  building.set(env, pending);
  const other = pending.get(key);
  const theirs = other === undefined ? undefined : await resultOf(other, BUILD_WAIT_MS);
  if (theirs !== undefined) return answer(theirs);
  const mine: SharedRun<Kept> = { startedAt: Date.now() };
  pending.set(key, mine);
  const built = runShared(mine, () => buildAndKeep(env, answers, key, now, build)).finally(() => {
    if (pending.get(key) === mine) pending.delete(key);
  });
  // The build outlives its reader: one who gives up at once (a flood's impatient reader) must not leave
  // those who came after it waiting, up to BUILD_WAIT_MS, on work the runtime stopped with its request.
  ctx?.waitUntil(built.catch(() => {}));
  return answer(await built);
}

const answer = (k: Pick<Kept, 'status' | 'headers' | 'body'>) => new Response(k.body, { status: k.status, headers: k.headers });

/** Builds the answer once for every reader waiting on it; keeps it if it is a 200 that may be cached. */
async function buildAndKeep(env: Env, answers: Map<string, Kept>, key: string, now: number, build: () => Promise<Response>) {
  const { gatheredAt, ...built } = await keepable(await build());
  // An answer built late in a gathering's period is kept only to that period's end.
  const until = Math.min(now + Math.min(built.maxAgeMs, refreshMs(env)), (gatheredAt ?? now) + refreshMs(env));
  const entry: Kept = { builtAt: now, until, status: built.status, headers: built.headers, body: built.body };
  if (entry.status !== 200 || until <= now) return entry;
  if (answers.size >= MAX_KEPT) answers.clear();
  answers.set(key, entry);
  return entry;
}

/** The answer as it may leave the Worker (without GATHERED_AT), with what that header said. */
async function keepable(res: Response) {
  const list: [string, string][] = [];
  let gatheredAt: number | null = null;
  res.headers.forEach((value, name) => {
    if (name !== GATHERED_AT) list.push([name, value]);
    else if (Number.isFinite(Number(value))) gatheredAt = Number(value);
  });
  return { status: res.status, headers: list, body: await res.text(), maxAgeMs: maxAgeMs(res), gatheredAt: gatheredAt as number | null };
}
