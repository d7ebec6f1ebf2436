// Everything the public page, the v2 API, the feeds and the badges show, gathered once per request.
// Live component states come from each agent's Durable Object and never touch D1. What D1 holds
// (incidents, maintenance, uptime history, the agents it remembers) is read fresh when D1 answers,
// and a copy is kept in the Watchdog object; when D1 fails, that copy is served with its age.
import { sql } from 'kysely';
import { parseAgentSecrets } from '../config.ts';
import { type ComponentView, viewComponents } from '../core/component-view.ts';
import { alertSourceSubject } from '../core/subject.ts';
import { componentsUnderMaintenance, type MaintenanceRow } from '../core/notices.ts';
import { SWEEP_PERIOD_MS } from '../core/watchdog-ticks.ts';
import { type ComponentUptime, DAY_MS, type DaySeconds, UPTIME_DAYS, uptimeByComponent } from '../core/uptime-days.ts';
import type { LiveState } from '../core/agent-state.ts';
import type { Env } from '../env.ts';
import { listAgents } from '../store/agents.ts';
import { createDb } from '../store/db.ts';
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
}

const INCIDENT_LIMIT = 50;
const HISTORY_MS = 14 * DAY_MS;
/** A sweep missing for this long means the watchdog is not evaluating. */
const STALL_MS = 5 * SWEEP_PERIOD_MS;
/** The kept copy is rewritten when what D1 said changed, or to refresh its age: not a write per view. */
const SNAPSHOT_REFRESH_MS = 5 * 60_000;
let lastKept: { body: string; at: number } | null = null;

async function readRecord(env: Env, now: number): Promise<Record> {
  const db = createDb(env.DB);
  const since = now - (UPTIME_DAYS - 1) * DAY_MS - (now % DAY_MS);
  const [agents, recent, unresolved, maintenances, days] = await Promise.all([
    listAgents(db),
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
    // Each agent's day row, monitor by monitor, summed over agents: D1 unpacks the JSON.
    sql<DaySeconds>`SELECT m.key AS monitor, d.day AS day,
        sum(json_extract(m.value, '$[0]')) AS good_s, sum(json_extract(m.value, '$[1]')) AS degraded_s, sum(json_extract(m.value, '$[2]')) AS blind_s,
        sum(json_extract(m.value, '$[3]')) AS unknown_s, sum(json_extract(m.value, '$[4]')) AS paused_s
      FROM agent_days d, json_each(d.monitors) m WHERE d.day >= ${since} GROUP BY m.key, d.day`
      .execute(db)
      .then((r) => r.rows),
  ]);
  const byId = new Map([...unresolved, ...recent].map((i) => [i.id, i]));
  const incidents = [...byId.values()].sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
  return {
    takenAt: now,
    agentIds: agents.map((a) => a.id),
    incidents,
    maintenances,
    days: days.map((d) => ({ ...d, day: Number(d.day) })),
  };
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

/** undefined when the live state could not be read (shown as unverified, never as fine). */
async function readLive(env: Env, id: string): Promise<LiveState | null | undefined> {
  try {
    return await env.AGENT.get(env.AGENT.idFromName(id)).getStatus();
  } catch (e: unknown) {
    console.error(`public page: could not read agent ${id}:`, e);
    return undefined;
  }
}

async function stalled(env: Env, now: number): Promise<boolean> {
  try {
    const last = await watchdog(env).lastTickAt();
    // No sweep ever ran (a new deployment): each agent's own deadline still greys out old data.
    return last !== null && now - last > STALL_MS;
  } catch (e: unknown) {
    console.error('public page: the watchdog could not be asked when it last swept:', e);
    return true;
  }
}

export async function publicState(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, requestUrl: string): Promise<PublicState> {
  const { config } = watchConfig(env);
  const now = Date.now();
  let record: Record | null = null;
  let snapshot: PublicState['snapshot'] = null;
  try {
    record = await readRecord(env, now);
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
  const sorted = [...ids].sort();
  const [lives, watchdogStalled] = await Promise.all([Promise.all(sorted.map((id) => readLive(env, id))), stalled(env, now)]);
  const subjects = sorted.map((id, i) => ({ id, live: lives[i] }));
  const maintenances = record?.maintenances ?? [];
  const views = viewComponents(config, subjects, now, watchdogStalled, componentsUnderMaintenance(maintenances, now));
  const seen = new Map(subjects.map((s) => [s.id, s.live?.firstSeenAt ?? now]));
  const firstSeen = new Map(
    views.filter((v) => v.contributions.length > 0).map((v) => [v.id, Math.min(...v.contributions.map((c) => seen.get(c.agentId) ?? now))]),
  );
  return {
    now,
    title: env.BLINDSPOT_PAGE_TITLE ?? 'Monitoring status',
    url: config.notifications.publicUrl ?? new URL(requestUrl).origin,
    views,
    uptime: uptimeByComponent(config, record?.days ?? [], now),
    incidents: record?.incidents ?? [],
    maintenances,
    firstSeen,
    subjects,
    snapshot,
    watchdogStalled,
  };
}
