// Admin API for what people announce and when paging pauses: incidents and their updates, maintenance
// windows (public; they pause paging), silences (not public; they pause paging). Mounted under
// /v1/admin behind verifyAdminToken: GET needs the "read" scope, everything else "write".
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import { describeIssues } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import { forEachAtMost } from '../at-once.ts';
import { engineMaintenance, type MaintenanceRow, maintenanceEnd, maintenanceStatus, stringList } from '../core/notices.ts';
import { realCalendarTime, RFC3339 } from '../core/time-zone.ts';
import type { Env } from '../env.ts';
import { ApiError, parseJsonBody } from '../errors.ts';
import { bodyLimit, noBody } from '../middleware/body-limit.ts';
import { knownSubjects } from '../durable/known-subjects.ts';
import { createDb } from '../store/db.ts';
import {
  addIncidentUpdate,
  editIncident,
  editIncidentUpdate,
  getIncident,
  getMaintenance,
  insertIncident,
  insertMaintenance,
  listIncidents,
  listMaintenances,
  pendingPauses,
  updateMaintenance,
} from '../store/notices.ts';
import { IMPACTS, INCIDENT_STATUSES } from '../store/schema.ts';
import { watchConfig } from '../watch-config.ts';
import { type ComponentRef, incidentShape, maintenanceShape } from '../public/statuspage-shapes.ts';
import { GLOB_HINT, isGlob } from '../core/glob.ts';

export const adminNotices = new Hono<AppEnv>();

const MAX_BODY = 16 * 1024;
const MAX_SPAN_MS = 31 * 86_400_000;
/** An incident opened for a start further back than this is a typo in the year, not a late entry. */
const MAX_BACKDATE_MS = 366 * 86_400_000;

/** Date.parse rolls 2026-02-30 over to March; a time someone typed must exist as written. */
const Text = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} is a string`),
    v.trim(),
    v.minLength(1, `${field} must not be empty`),
    v.maxLength(max, `${field} is at most ${max} characters`),
  );
const Time = (field: string) =>
  v.pipe(
    v.string(`${field} is an RFC 3339 time with a zone, e.g. 2026-11-22T18:00:00Z`),
    v.regex(RFC3339, `${field} is an RFC 3339 time with a zone (Z or ±hh:mm), e.g. 2026-11-22T18:00:00Z`),
    v.check(realCalendarTime, `${field} is not a real date and time (check the day of the month and the hours)`),
    v.transform((s) => Date.parse(s)),
  );
const Ids = (field: string) =>
  v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200)), `${field} is a list of strings`),
    v.maxLength(50, `${field} has at most 50 entries`),
  );
/** Agent and monitor selectors: names or globs, checked as the configuration checks them. */
const Globs = (field: string) =>
  v.pipe(
    v.array(
      v.pipe(v.string(`${field} is a list of names or globs`), v.check(isGlob, `each of ${field} ${GLOB_HINT}`)),
      `${field} is a list of names or globs`,
    ),
    v.maxLength(50, `${field} has at most 50 entries`),
  );

const CreateIncident = v.strictObject({
  name: Text('name', 200),
  body: Text('body', 10_000),
  status: v.optional(
    v.picklist(['investigating', 'identified', 'monitoring'], 'status is investigating, identified or monitoring'),
    'investigating',
  ),
  impact: v.optional(v.picklist(IMPACTS, `impact is one of ${IMPACTS.join(', ')}`), 'minor'),
  components: v.optional(Ids('components'), []),
  started_at: v.optional(Time('started_at')),
});

const AddUpdate = v.strictObject({
  status: v.picklist(INCIDENT_STATUSES, `status is one of ${INCIDENT_STATUSES.join(', ')}`),
  body: Text('body', 10_000),
  impact: v.optional(v.picklist(IMPACTS, `impact is one of ${IMPACTS.join(', ')}`)),
  components: v.optional(Ids('components')),
});

const EditIncident = v.strictObject({
  name: v.optional(Text('name', 200)),
  impact: v.optional(v.picklist(IMPACTS, `impact is one of ${IMPACTS.join(', ')}`)),
  components: v.optional(Ids('components')),
});

const EditUpdate = v.strictObject({ body: Text('body', 10_000) });
const Resolve = v.strictObject({ body: v.optional(Text('body', 10_000), 'This incident has been resolved.') });

const CreateMaintenance = v.strictObject({
  name: Text('name', 200),
  body: v.optional(v.pipe(v.string('body is a string'), v.maxLength(10_000, 'body is at most 10000 characters')), ''),
  components: v.optional(Ids('components'), []),
  agents: v.optional(Globs('agents')),
  monitors: v.optional(Globs('monitors')),
  scheduled_for: Time('scheduled_for'),
  scheduled_until: Time('scheduled_until'),
});

const CreateSilence = v.strictObject({
  reason: Text('reason', 200),
  agents: v.optional(Globs('agents'), ['*']),
  monitors: v.optional(Globs('monitors'), ['*']),
  starts_at: v.optional(Time('starts_at')),
  ends_at: Time('ends_at'),
});

const ListQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'limit is a whole number from 1 to 100'),
      v.transform(Number),
      v.minValue(1, 'limit is at least 1'),
      v.maxValue(100, 'limit is at most 100'),
    ),
    '50',
  ),
});

async function read<const T extends v.GenericSchema>(c: Context<AppEnv>, schema: T): Promise<v.InferOutput<T>> {
  const parsed = v.safeParse(schema, parseJsonBody(c.get('rawBody')));
  if (!parsed.success) throw new ApiError(400, 'invalid_body', describeIssues(parsed.issues));
  return parsed.output;
}

function query<const T extends v.GenericSchema>(c: Context<AppEnv>, schema: T): v.InferOutput<T> {
  const parsed = v.safeParse(schema, c.req.query());
  if (!parsed.success) throw new ApiError(400, 'invalid_query', describeIssues(parsed.issues));
  return parsed.output;
}

function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return [...bytes].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
}

/** Component ids must be ones the page shows; the error lists them. */
function knownComponents(env: Env, ids: readonly string[]): string[] {
  const { config } = watchConfig(env);
  const known = new Set(config.components.map((c) => c.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new ApiError(
      422,
      'unknown_component',
      `unknown component ${unknown.map((u) => `"${u}"`).join(', ')}; components are ${[...known].join(', ')}`,
    );
  return [...new Set(ids)];
}

function refsOf(env: Env): Map<string, ComponentRef> {
  return new Map(watchConfig(env).config.components.map((c) => [c.id, { id: c.id, name: c.name, status: 'operational' }]));
}

const pageUrl = (env: Env, requestUrl: string) => watchConfig(env).config.notifications.publicUrl ?? new URL(requestUrl).origin;
const noStore = { 'cache-control': 'no-store' };

// --- incidents -------------------------------------------------------------------------------

adminNotices.get('/incidents', async (c) => {
  const { limit } = query(c, ListQuery);
  const rows = await listIncidents(createDb(c.env.DB), { limit });
  const known = refsOf(c.env);
  return c.json(
    { incidents: rows.map((i) => ({ ...incidentShape(i, known, pageUrl(c.env, c.req.url)), source: i.source })) },
    200,
    noStore,
  );
});

adminNotices.get('/incidents/:id', async (c) => {
  const incident = await getIncident(createDb(c.env.DB), c.req.param('id'));
  if (incident === null) throw new ApiError(404, 'unknown_incident', `no incident "${c.req.param('id')}"`);
  return c.json(
    { incident: { ...incidentShape(incident, refsOf(c.env), pageUrl(c.env, c.req.url)), source: incident.source } },
    200,
    noStore,
  );
});

adminNotices.post('/incidents', bodyLimit(MAX_BODY), async (c) => {
  const input = await read(c, CreateIncident);
  const components = knownComponents(c.env, input.components);
  const now = Date.now();
  const id = newId();
  const startedAt = input.started_at ?? now;
  if (startedAt > now + 60_000)
    throw new ApiError(422, 'started_in_future', 'started_at is in the future; an incident starts when the problem did');
  if (startedAt < now - MAX_BACKDATE_MS)
    throw new ApiError(
      422,
      'started_too_long_ago',
      'started_at is more than a year ago; check the year (an incident is opened while it lasts)',
    );
  const incident = {
    id,
    name: input.name,
    status: input.status,
    impact: input.impact,
    components: JSON.stringify(components),
    source: 'admin',
    started_at: startedAt,
    created_at: now,
    updated_at: now,
    monitoring_at: input.status === 'monitoring' ? now : null,
    resolved_at: null,
  };
  const first = {
    id: newId(),
    incident_id: id,
    status: input.status,
    body: input.body,
    author: c.get('adminName'),
    created_at: now,
    updated_at: now,
  };
  const db = createDb(c.env.DB);
  await insertIncident(c.env.DB, db, incident, first);
  return c.json({ incident: incidentShape({ ...incident, updates: [first] }, refsOf(c.env), pageUrl(c.env, c.req.url)) }, 201, noStore);
});

async function existingIncident(c: Context<AppEnv>) {
  const incident = await getIncident(createDb(c.env.DB), c.req.param('id') as string);
  if (incident === null) throw new ApiError(404, 'unknown_incident', `no incident "${c.req.param('id')}"`);
  return incident;
}

async function postUpdate(c: Context<AppEnv>, input: v.InferOutput<typeof AddUpdate>) {
  const incident = await existingIncident(c);
  if (incident.resolved_at !== null && input.status !== 'postmortem' && input.status !== 'resolved')
    throw new ApiError(409, 'incident_resolved', `incident "${incident.id}" is resolved; open a new incident, or add a postmortem update`);
  const components = input.components === undefined ? incident.components : JSON.stringify(knownComponents(c.env, input.components));
  const now = Date.now();
  const { updates, ...row } = incident;
  const next = {
    ...row,
    status: input.status,
    impact: input.impact ?? row.impact,
    components,
    updated_at: now,
    monitoring_at: input.status === 'monitoring' && row.monitoring_at === null ? now : row.monitoring_at,
    resolved_at: input.status === 'resolved' && row.resolved_at === null ? now : row.resolved_at,
  };
  const update = {
    id: newId(),
    incident_id: incident.id,
    status: input.status,
    body: input.body,
    author: c.get('adminName'),
    created_at: now,
    updated_at: now,
  };
  await addIncidentUpdate(c.env.DB, createDb(c.env.DB), next, update);
  return c.json(
    { incident: incidentShape({ ...next, updates: [update, ...updates] }, refsOf(c.env), pageUrl(c.env, c.req.url)) },
    201,
    noStore,
  );
}

adminNotices.post('/incidents/:id/updates', bodyLimit(MAX_BODY), async (c) => postUpdate(c, await read(c, AddUpdate)));

adminNotices.post('/incidents/:id/resolve', bodyLimit(MAX_BODY), async (c) => {
  const input = c.get('rawBody').trim() === '' ? { body: 'This incident has been resolved.' } : await read(c, Resolve);
  return postUpdate(c, { status: 'resolved', body: input.body });
});

adminNotices.patch('/incidents/:id', bodyLimit(MAX_BODY), async (c) => {
  const input = await read(c, EditIncident);
  const incident = await existingIncident(c);
  const now = Date.now();
  await editIncident(createDb(c.env.DB), incident.id, {
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(input.impact === undefined ? {} : { impact: input.impact }),
    ...(input.components === undefined ? {} : { components: JSON.stringify(knownComponents(c.env, input.components)) }),
    updated_at: now,
  });
  const after = await existingIncident(c);
  return c.json({ incident: incidentShape(after, refsOf(c.env), pageUrl(c.env, c.req.url)) }, 200, noStore);
});

/** Fixing the text of an update (a typo, or the words of an automatic incident). */
adminNotices.patch('/incidents/:id/updates/:update', bodyLimit(MAX_BODY), async (c) => {
  const input = await read(c, EditUpdate);
  const incident = await existingIncident(c);
  if (!(await editIncidentUpdate(createDb(c.env.DB), incident.id, c.req.param('update'), input.body, Date.now())))
    throw new ApiError(404, 'unknown_update', `incident "${incident.id}" has no update "${c.req.param('update')}"`);
  return c.json({ incident: incidentShape(await existingIncident(c), refsOf(c.env), pageUrl(c.env, c.req.url)) }, 200, noStore);
});

// --- maintenance and silences ---------------------------------------------------------------

function checkSpan(from: number, until: number, now: number, names: [string, string]): void {
  if (until <= from) throw new ApiError(422, 'bad_range', `${names[1]} must be after ${names[0]}`);
  if (until <= now) throw new ApiError(422, 'bad_range', `${names[1]} is in the past; nothing would be paused`);
  if (until - from > MAX_SPAN_MS)
    throw new ApiError(422, 'bad_range', `${names[0]} to ${names[1]} is at most 31 days; schedule longer work as several windows`);
}

/**
 * Agents' Durable Objects re-read maintenance, silences and channel state before the answer: when it
 * comes, paging has paused (or resumed), and a channel enabled again sends what waited for it. They
 * are handed the maintenance and silences as this request read them, right after writing: an object
 * whose own D1 reads fail or hang still lets go of a silence the operator ended (or takes one on).
 */
export async function tellAgents(env: Env): Promise<string[]> {
  const at = Date.now();
  const told = await pendingPauses(createDb(env.DB), at).then(
    (rows) => ({ maintenance: engineMaintenance(rows), at }),
    (e: unknown) => (
      console.error('maintenance changed: could not read it back to hand to the agents; they read it themselves:', e), undefined
    ),
  );
  const ids = await knownSubjects(env);
  const failed: string[] = [];
  let firstReason: unknown;
  await forEachAtMost(ids, TELL_CONCURRENCY, async (id) => {
    try {
      await withRetries(() => env.AGENT.get(env.AGENT.idFromName(id)).maintenanceChanged(told), tellRetry.waitsMs);
    } catch (e: unknown) {
      if (failed.length === 0) firstReason = e;
      failed.push(id);
    }
  });
  failed.sort();
  // Each object also re-reads on its own every few minutes: a missed call delays the pause, no more.
  if (failed.length > 0)
    console.error(
      `maintenance changed: ${failed.length} of ${ids.length} agents could not be told (${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', ...' : ''}): they re-read within 5 minutes`,
      firstReason,
    );
  return failed;
}

/** Objects told at once: a fleet of thousands is told in seconds, without thousands of calls open together. */
const TELL_CONCURRENCY = 16;

/**
 * Tells the agents of a pause change, for a route's answer: the agents that could not be told (they
 * learn of it at their own next read, within 5 minutes), or `['*']` if none could be listed.
 */
async function tellOfPause(env: Env, what: string): Promise<{ agents_not_told: string[] }> {
  const failed = await tellAgents(env).catch((e: unknown) => {
    console.error(`${what}: agents not told:`, e);
    return ['*'];
  });
  return { agents_not_told: failed };
}

/**
 * A tell that fails is tried again after each of these waits (ms): a Durable Object call fails now and
 * then (the object reset or moved, a connection lost) and the next one reaches a new instance. The
 * tell is idempotent. Without it, a silence the object was not told of is paged through until its
 * next re-read (up to 5 minutes). An error marked `overloaded` is not tried again. A seam: the
 * simulator, on virtual time, waits none.
 */
export const tellRetry: { waitsMs: readonly number[] } = { waitsMs: [50, 250] };

async function withRetries<T>(call: () => Promise<T>, waits: readonly number[]): Promise<T> {
  for (const wait of waits) {
    try {
      return await call();
    } catch (e) {
      // An object that says it is overloaded is not called again: more calls would deepen it (the
      // platform's advice). It re-reads on its own.
      if ((e as { overloaded?: unknown } | null)?.overloaded === true) throw e;
      await scheduler.wait(wait);
    }
  }
  return call();
}

const shapeMaintenance = (c: Context<AppEnv>, m: MaintenanceRow) => ({
  ...maintenanceShape(m, refsOf(c.env), pageUrl(c.env, c.req.url), Date.now()),
  agents: stringList(m.agents),
  monitors: stringList(m.monitors),
  author: m.author,
});

adminNotices.get('/maintenances', async (c) => {
  const { limit } = query(c, ListQuery);
  const rows = await listMaintenances(createDb(c.env.DB), 'maintenance', { since: Date.now() - 7 * 86_400_000, limit });
  return c.json({ scheduled_maintenances: rows.map((m) => shapeMaintenance(c, m)) }, 200, noStore);
});

adminNotices.post('/maintenances', bodyLimit(MAX_BODY), async (c) => {
  const input = await read(c, CreateMaintenance);
  const now = Date.now();
  checkSpan(input.scheduled_for, input.scheduled_until, now, ['scheduled_for', 'scheduled_until']);
  const components = knownComponents(c.env, input.components);
  const { config } = watchConfig(c.env);
  // Paging pauses for what the maintenance touches: the monitors of its components unless told otherwise.
  const monitors =
    input.monitors ?? (components.length === 0 ? ['*'] : config.monitors.filter((m) => components.includes(m.component)).map((m) => m.id));
  if (monitors.length === 0)
    throw new ApiError(422, 'nothing_paused', `no monitor feeds ${components.join(', ')}; name the monitors to pause in "monitors"`);
  const row: MaintenanceRow = {
    id: newId(),
    kind: 'maintenance',
    name: input.name,
    body: input.body,
    components: JSON.stringify(components),
    agents: JSON.stringify(input.agents ?? ['*']),
    monitors: JSON.stringify(monitors),
    scheduled_for: input.scheduled_for,
    scheduled_until: input.scheduled_until,
    completed_at: null,
    author: c.get('adminName'),
    created_at: now,
    updated_at: now,
  };
  await insertMaintenance(createDb(c.env.DB), row);
  const told = await tellOfPause(c.env, 'maintenance created');
  return c.json({ scheduled_maintenance: shapeMaintenance(c, row), ...told }, 201, noStore);
});

async function existingMaintenance(c: Context<AppEnv>, kind: MaintenanceRow['kind']): Promise<MaintenanceRow> {
  const row = await getMaintenance(createDb(c.env.DB), c.req.param('id') as string);
  if (row === null || row.kind !== kind) throw new ApiError(404, `unknown_${kind}`, `no ${kind} "${c.req.param('id')}"`);
  return row;
}

/** Ends a maintenance or silence now and tells the agents, so paging resumes before the answer. */
async function endNow(
  c: Context<AppEnv>,
  row: MaintenanceRow,
  now: number,
): Promise<{ ended: MaintenanceRow; told: { agents_not_told: string[] } }> {
  await updateMaintenance(createDb(c.env.DB), row.id, { completed_at: now, updated_at: now });
  const told = await tellOfPause(c.env, `${row.kind} ${row.id} ended`);
  return { ended: { ...row, completed_at: now, updated_at: now }, told };
}

/** Starts a scheduled maintenance now (scheduled → in progress). */
adminNotices.post('/maintenances/:id/start', noBody(), async (c) => {
  const row = await existingMaintenance(c, 'maintenance');
  const now = Date.now();
  const status = maintenanceStatus(row, now);
  if (status === 'completed') throw new ApiError(409, 'maintenance_completed', `maintenance "${row.id}" is completed; schedule a new one`);
  const next = status === 'scheduled' ? { ...row, scheduled_for: now, updated_at: now } : row;
  if (next !== row) await updateMaintenance(createDb(c.env.DB), row.id, { scheduled_for: now, updated_at: now });
  const told = await tellOfPause(c.env, 'maintenance started');
  return c.json({ scheduled_maintenance: shapeMaintenance(c, next), ...told }, 200, noStore);
});

/** Completes it now (in progress → completed), or cancels it before it starts. Paging resumes. */
adminNotices.post('/maintenances/:id/complete', noBody(), async (c) => {
  const row = await existingMaintenance(c, 'maintenance');
  const now = Date.now();
  if (maintenanceStatus(row, now) === 'completed')
    throw new ApiError(409, 'maintenance_completed', `maintenance "${row.id}" is already completed`);
  // Cancelled before it began: it ends before its start, so it never runs.
  const { ended, told } = await endNow(c, row, now);
  return c.json({ scheduled_maintenance: shapeMaintenance(c, ended), ...told }, 200, noStore);
});

const silenceShape = (m: MaintenanceRow, now: number) => ({
  id: m.id,
  reason: m.name,
  agents: stringList(m.agents),
  monitors: stringList(m.monitors),
  starts_at: new Date(m.scheduled_for).toISOString(),
  ends_at: new Date(maintenanceEnd(m)).toISOString(),
  active: maintenanceStatus(m, now) === 'in_progress',
  author: m.author,
});

adminNotices.get('/silences', async (c) => {
  const { limit } = query(c, ListQuery);
  const now = Date.now();
  const rows = await listMaintenances(createDb(c.env.DB), 'silence', { since: now - 86_400_000, limit });
  return c.json({ silences: rows.map((m) => silenceShape(m, now)) }, 200, noStore);
});

adminNotices.post('/silences', bodyLimit(MAX_BODY), async (c) => {
  const input = await read(c, CreateSilence);
  const now = Date.now();
  const from = input.starts_at ?? now;
  checkSpan(from, input.ends_at, now, ['starts_at', 'ends_at']);
  const row: MaintenanceRow = {
    id: newId(),
    kind: 'silence',
    name: input.reason,
    body: '',
    components: '[]',
    agents: JSON.stringify(input.agents),
    monitors: JSON.stringify(input.monitors),
    scheduled_for: from,
    scheduled_until: input.ends_at,
    completed_at: null,
    author: c.get('adminName'),
    created_at: now,
    updated_at: now,
  };
  await insertMaintenance(createDb(c.env.DB), row);
  const told = await tellOfPause(c.env, 'silence created');
  return c.json({ silence: silenceShape(row, now), ...told }, 201, noStore);
});

/** Expires a silence now: paging resumes for what it covered. */
adminNotices.delete('/silences/:id', async (c) => {
  const row = await existingMaintenance(c, 'silence');
  const now = Date.now();
  if (maintenanceStatus(row, now) === 'completed') throw new ApiError(409, 'silence_expired', `silence "${row.id}" has already expired`);
  const { ended, told } = await endNow(c, row, now);
  return c.json({ silence: silenceShape(ended, now), ...told }, 200, noStore);
});
