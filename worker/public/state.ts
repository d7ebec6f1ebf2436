// Everything the public page, the v2 API, the feeds and the badges show: gathered at most once per
// refresh period (2 s by default) and shared by every reader, judged at each read. Live states come
// from the public copies each agent's Durable Object keeps in the Watchdog object (one read, however
// many agents), and never touch D1. What D1 holds
// (incidents, maintenance, uptime history, the agents it remembers) is read fresh when D1 answers,
// and a copy is kept in the Watchdog object; when D1 fails, that copy is served with its age.
import { sql } from 'kysely';
import { parseAgentSecrets } from '../config.ts';
import { type ComponentView, viewComponents } from '../core/component-view.ts';
import { alertSourceSubject } from '../core/subject.ts';
import { componentsUnderMaintenance, type MaintenanceRow } from '../core/notices.ts';
import { sweepStalled } from '../core/watchdog-ticks.ts';
import { sayOnce } from '../say-once.ts';
import { type ComponentUptime, DAY_MS, type DaySeconds, UPTIME_DAYS, uptimeByComponent } from '../core/uptime-days.ts';
import type { LiveState } from '../core/agent-state.ts';
import type { Env } from '../env.ts';
import { d1Wait, within } from '../durable/clock.ts';
import { readAllCopies } from '../durable/public-shards.ts';
import { listAgents } from '../store/agents.ts';
import { credentials } from '../durable/credentials.ts';
import { createDb } from '../store/db.ts';
import { resultOf, runShared, type SharedRun } from './shared-run.ts';
import { type IncidentWithUpdates, listIncidents } from '../store/notices.ts';
import { watchConfig } from '../watch-config.ts';

/** What D1 told us, as of `takenAt`. */
export interface Record {
  takenAt: number;
  agentIds: string[];
  incidents: IncidentWithUpdates[];
  maintenances: MaintenanceRow[];
  days: DaySeconds[];
}

export interface PublicState {
  now: number;
  /** When the reads behind it were made (at most the refresh period before `now`). */
  gatheredAt: number;
  title: string;
  url: string;
  views: ComponentView[];
  uptime: Map<string, ComponentUptime>;
  incidents: IncidentWithUpdates[];
  maintenances: MaintenanceRow[];
  firstSeen: Map<string, number>;
  /** Every agent's live state: null if never heard from, undefined if it could not be read. */
  subjects: { id: string; live: LiveState | null | undefined }[];
  /** Set when D1 failed: the record shown is this old copy (takenAt null: no copy was ever kept). */
  snapshot: { takenAt: number | null } | null;
  /** The watchdog's sweeps stopped: nothing it shows can be called verified. */
  watchdogStalled: boolean;
  /** When the sweep last ran; null if it never did, undefined if it could not be asked. */
  lastTickAt: number | null | undefined;
}

const INCIDENT_LIMIT = 50;
const HISTORY_MS = 14 * DAY_MS;
/** The kept copy is rewritten when what D1 said changed, or to refresh its age: not a write per view. */
const SNAPSHOT_REFRESH_MS = 5 * 60_000;
let lastKept: { body: string; at: number } | null = null;

/**
 * The heavy part of what D1 holds: the 90-day uptime aggregate (over every agent's day rows, which
 * change every 5 minutes at most) and the agents D1 remembers. Read at most every HEAVY_REFRESH_MS, so
 * the public surfaces do not keep D1's single writer busy while heartbeats wait on it. Once read, a
 * stale one is shown while the next is read in the background: however long the aggregate takes on a
 * large fleet, it never holds a reader, nor makes a read miss the D1 wait and fall back to the copy.
 */
const HEAVY_REFRESH_MS = 5 * 60_000;
interface Heavy {
  at: number;
  agentIds: string[];
  days: DaySeconds[];
  refreshing?: boolean;
}
const heavy = new WeakMap<Env, Heavy>();

async function readHeavy(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, now: number): Promise<Heavy> {
  const kept = heavy.get(env);
  if (kept !== undefined && refreshMs(env) > 0 && now >= kept.at) {
    if (now - kept.at >= Math.max(HEAVY_REFRESH_MS, refreshMs(env)) && !kept.refreshing) {
      kept.refreshing = true;
      ctx.waitUntil(
        queryHeavy(env, now).then(
          (fresh) => heavy.set(env, fresh),
          (e: unknown) => ((kept.refreshing = false), console.error('public page: the uptime history could not be read:', e)),
        ),
      );
    }
    return kept;
  }
  const fresh = await queryHeavy(env, now);
  heavy.set(env, fresh);
  return fresh;
}

async function queryHeavy(env: Env, now: number): Promise<Heavy> {
  const db = createDb(env.DB);
  const since = now - (UPTIME_DAYS - 1) * DAY_MS - (now % DAY_MS);
  const [agents, days] = await Promise.all([
    listAgents(db),
    // Each agent's day row, monitor by monitor, summed over agents: D1 unpacks the JSON.
    sql<DaySeconds>`SELECT m.key AS monitor, d.day AS day,
        sum(json_extract(m.value, '$[0]')) AS good_s, sum(json_extract(m.value, '$[1]')) AS degraded_s, sum(json_extract(m.value, '$[2]')) AS blind_s,
        sum(json_extract(m.value, '$[3]')) AS unknown_s, sum(json_extract(m.value, '$[4]')) AS paused_s
      FROM agent_days d, json_each(d.monitors) m WHERE d.day >= ${since} GROUP BY m.key, d.day`
      .execute(db)
      .then((r) => r.rows),
  ]);
  return { at: now, agentIds: agents.map((a) => a.id), days: days.map((d) => ({ ...d, day: Number(d.day) })) };
}

async function readRecord(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, now: number): Promise<Record> {
  const db = createDb(env.DB);
  const [{ agentIds, days }, recent, unresolved, maintenances] = await Promise.all([
    readHeavy(env, ctx, now),
    listIncidents(db, { limit: INCIDENT_LIMIT }),
    listIncidents(db, { limit: INCIDENT_LIMIT, unresolvedOnly: true }),
    db
      .selectFrom('maintenances')
      .selectAll()
      .where('kind', '=', 'maintenance')
      .where('scheduled_until', '>', now - HISTORY_MS)
      .orderBy('scheduled_for')
      .limit(100)
      .execute(),
  ]);
  const byId = new Map([...unresolved, ...recent].map((i) => [i.id, i]));
  const incidents = [...byId.values()].sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
  return { takenAt: now, agentIds, incidents, maintenances, days };
}

function watchdog(env: Env) {
  return env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
}

async function keptRecord(env: Env): Promise<Record | null> {
  try {
    const json = await watchdog(env).getSnapshot();
    return json === null ? null : (JSON.parse(json) as Record);
  } catch (e: unknown) {
    console.error('public page: the kept snapshot could not be read either:', e);
    return null;
  }
}

/** Every subject's public copy, kept current by its own object; undefined when it could not be read. */
async function readCopies(env: Env): Promise<Map<string, LiveState> | undefined> {
  try {
    return new Map((await readAllCopies(env)).map((c) => [c.id, c.live]));
  } catch (e: unknown) {
    console.error('public page: the public copies could not be read:', e);
    return undefined;
  }
}

/** Agents added through the admin API (their ids only); none when the credentials object cannot be asked. */
async function managedAgents(env: Env): Promise<string[]> {
  try {
    return [...new Set((await credentials(env).agentKeys()).map((k) => k.agentId))];
  } catch (e: unknown) {
    console.error('public page: the managed agents could not be read:', e);
    return [];
  }
}

/** When the watchdog last swept; undefined when it could not be asked (then nothing is verified). */
async function lastTick(env: Env): Promise<number | null | undefined> {
  try {
    return await watchdog(env).lastTickAt();
  } catch (e: unknown) {
    console.error('public page: the watchdog could not be asked when it last swept:', e);
    return undefined;
  }
}

/** What the surfaces are built from: read from D1 and the objects, at most once per refresh period. */
interface Gathered {
  at: number;
  record: Record | null;
  snapshot: PublicState['snapshot'];
  subjects: { id: string; live: LiveState | null | undefined }[];
  lastTickAt: number | null | undefined;
}

async function gather(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, now: number): Promise<Gathered> {
  const { config } = watchConfig(env);
  let record: Record | null = null;
  let snapshot: PublicState['snapshot'] = null;
  try {
    record = await within(readRecord(env, ctx, now), d1Wait.ms, 'D1');
    const { takenAt: _, ...content } = record;
    const body = JSON.stringify(content);
    if (lastKept === null || lastKept.body !== body || now - lastKept.at >= SNAPSHOT_REFRESH_MS) {
      lastKept = { body, at: now };
      ctx.waitUntil(
        watchdog(env)
          .putSnapshot(JSON.stringify(record))
          .catch((e: unknown) => ((lastKept = null), console.error('public page: snapshot not kept:', e))),
      );
    }
  } catch (e: unknown) {
    console.error('public page: D1 unavailable, serving the kept snapshot:', e);
    record = await keptRecord(env);
    snapshot = { takenAt: record?.takenAt ?? null };
  }
  // Every agent with a secret, every Alertmanager source configured, and whatever else D1 remembers.
  const ids = new Set([
    ...parseAgentSecrets(env.BLINDSPOT_AGENT_SECRETS).keys(),
    ...config.alertSources.map((s) => alertSourceSubject(s.id)),
    ...(record?.agentIds ?? []),
  ]);
  const [copies, lastTickAt, managed] = await Promise.all([readCopies(env), lastTick(env), managedAgents(env)]);
  // An agent added through the admin API is watched from then on: never heard yet is not "operational".
  for (const id of managed) ids.add(id);
  for (const id of copies?.keys() ?? []) ids.add(id);
  // A retired agent (revoked by an operator) is no longer part of what the page watches.
  for (const [id, live] of copies ?? []) if (live.retiredAt !== undefined) ids.delete(id);
  const subjects = [...ids].sort().map((id) => ({ id, live: copies === undefined ? undefined : (copies.get(id) ?? null) }));
  return { at: now, record, snapshot, subjects, lastTickAt };
}

/** How often a public read may gather afresh (BLINDSPOT_PUBLIC_REFRESH_S, default 2 s; 0: on every read). */
export function refreshMs(env: Pick<Env, 'BLINDSPOT_PUBLIC_REFRESH_S'>): number {
  const raw = env.BLINDSPOT_PUBLIC_REFRESH_S;
  const s = raw === undefined || raw.trim() === '' ? DEFAULT_REFRESH_S : Number(raw);
  if (Number.isFinite(s) && s >= 0) return Math.min(s, MAX_REFRESH_S) * 1000;
  if (raw !== undefined)
    sayOnce(`BLINDSPOT_PUBLIC_REFRESH_S is "${raw.slice(0, 40)}"; give seconds from 0 to ${MAX_REFRESH_S}. Using ${DEFAULT_REFRESH_S}`);
  return DEFAULT_REFRESH_S * 1000;
}
const DEFAULT_REFRESH_S = 2;
const MAX_REFRESH_S = 60;

/** Per Worker environment: the gathering in use (one at a time: readers arriving meanwhile share it, public/shared-run.ts). */
const gathered = new WeakMap<Env, SharedRun<Gathered> & { at: number }>();
/** How long a reader waits for another's gathering before gathering itself (a gathering waits at most d1Wait on D1). */
const GATHER_WAIT_MS = 5_000;

/**
 * The public state as of `now`. The reads behind it (D1, every agent's object, the watchdog) are made
 * at most once per refresh period and shared by every reader, so a flood of readers does not reach
 * the objects that take heartbeats; what they show is judged at `now`, so a claim whose evidence aged
 * past its budget meanwhile turns unverified all the same.
 */
export async function publicState(
  env: Env,
  ctx: { waitUntil(p: Promise<unknown>): void },
  requestUrl: string,
  now = Date.now(),
): Promise<PublicState> {
  const entry = gathered.get(env);
  if (entry !== undefined && now - entry.at < refreshMs(env) && now >= entry.at) {
    const shared = await resultOf(entry, GATHER_WAIT_MS);
    if (shared !== undefined) return judge(env, shared, now, requestUrl);
  }
  const fresh: SharedRun<Gathered> & { at: number } = { at: now, startedAt: Date.now() };
  gathered.set(env, fresh);
  const run = runShared(fresh, () => gather(env, ctx, now));
  // The gathering outlives its reader, so those sharing it get it though that reader gave up at once.
  ctx.waitUntil(run.catch(() => {}));
  try {
    return judge(env, await run, now, requestUrl);
  } catch (e: unknown) {
    // A gathering that failed is not kept: the next reader tries again.
    if (gathered.get(env) === fresh) gathered.delete(env);
    throw e;
  }
}

function judge(env: Env, g: Gathered, now: number, requestUrl: string): PublicState {
  const { config } = watchConfig(env);
  // No sweep ever ran (a new deployment): each agent's own deadline still greys out old data.
  const watchdogStalled = sweepStalled(g.lastTickAt, now);
  const maintenances = g.record?.maintenances ?? [];
  const views = viewComponents(config, g.subjects, now, watchdogStalled, componentsUnderMaintenance(maintenances, now));
  const seen = new Map(g.subjects.map((s) => [s.id, s.live?.firstSeenAt ?? now]));
  const firstSeen = new Map(
    views.filter((v) => v.contributions.length > 0).map((v) => [v.id, Math.min(...v.contributions.map((c) => seen.get(c.agentId) ?? now))]),
  );
  return {
    now,
    gatheredAt: g.at,
    title: env.BLINDSPOT_PAGE_TITLE ?? 'Monitoring status',
    url: config.notifications.publicUrl ?? new URL(requestUrl).origin,
    views,
    uptime: uptimeByComponent(config, g.record?.days ?? [], now),
    incidents: g.record?.incidents ?? [],
    maintenances,
    firstSeen,
    subjects: g.subjects,
    snapshot: g.snapshot,
    watchdogStalled,
    lastTickAt: g.lastTickAt,
  };
}
