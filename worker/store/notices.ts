// Incidents, their updates, maintenance windows and silences in D1.
import { type CompiledQuery, sql } from 'kysely';
import { autoIncidentId } from '../core/auto-incident.ts';
import type { MaintenanceRow } from '../core/notices.ts';
import type { Db } from './db.ts';
import type { Impact, IncidentsTable, IncidentUpdatesTable } from './schema.ts';

export type IncidentRow = IncidentsTable;
export type UpdateRow = IncidentUpdatesTable;

export interface IncidentWithUpdates extends IncidentRow {
  updates: UpdateRow[];
}

/** The most recent incidents (newest first), each with its updates (newest first). */
export async function listIncidents(
  db: Db,
  opts: { limit: number; unresolvedOnly?: boolean; since?: number },
): Promise<IncidentWithUpdates[]> {
  let q = db.selectFrom('incidents').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(opts.limit);
  if (opts.unresolvedOnly) q = q.where('resolved_at', 'is', null);
  if (opts.since !== undefined) q = q.where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', opts.since as number)]));
  const incidents = await q.execute();
  if (incidents.length === 0) return [];
  const updates = await db
    .selectFrom('incident_updates')
    .selectAll()
    .where(
      'incident_id',
      'in',
      incidents.map((i) => i.id),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return incidents.map((i) => ({ ...i, updates: updates.filter((u) => u.incident_id === i.id) }));
}

export async function getIncident(db: Db, id: string): Promise<IncidentWithUpdates | null> {
  const incident = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (incident === undefined) return null;
  const updates = await db
    .selectFrom('incident_updates')
    .selectAll()
    .where('incident_id', '=', id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return { ...incident, updates };
}

/** The incident and its first update land together, or neither does. */
export async function insertIncident(d1: D1Database, db: Db, incident: IncidentRow, first: UpdateRow): Promise<void> {
  const a = db.insertInto('incidents').values(incident).compile();
  const b = db.insertInto('incident_updates').values(first).compile();
  await d1.batch([d1.prepare(a.sql).bind(...a.parameters), d1.prepare(b.sql).bind(...b.parameters)]);
}

/** A new update and the incident's new state, together. */
export async function addIncidentUpdate(d1: D1Database, db: Db, incident: IncidentRow, update: UpdateRow): Promise<void> {
  const { id, ...fields } = incident;
  const a = db.updateTable('incidents').set(fields).where('id', '=', id).compile();
  const b = db.insertInto('incident_updates').values(update).compile();
  await d1.batch([d1.prepare(a.sql).bind(...a.parameters), d1.prepare(b.sql).bind(...b.parameters)]);
}

export async function editIncident(
  db: Db,
  id: string,
  fields: Partial<Pick<IncidentRow, 'name' | 'impact' | 'components' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('incidents').set(fields).where('id', '=', id).execute();
}

export async function editIncidentUpdate(db: Db, incidentId: string, updateId: string, body: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('incident_updates')
    .set({ body, updated_at: at })
    .where('id', '=', updateId)
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function insertMaintenance(db: Db, row: MaintenanceRow): Promise<void> {
  await db.insertInto('maintenances').values(row).execute();
}

export async function getMaintenance(db: Db, id: string): Promise<MaintenanceRow | null> {
  return (await db.selectFrom('maintenances').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function updateMaintenance(
  db: Db,
  id: string,
  fields: Partial<Omit<MaintenanceRow, 'id' | 'kind' | 'created_at' | 'author'>>,
): Promise<void> {
  await db.updateTable('maintenances').set(fields).where('id', '=', id).execute();
}

/** Maintenance (or silences) that end after `since`, soonest first. */
export async function listMaintenances(
  db: Db,
  kind: MaintenanceRow['kind'],
  opts: { since: number; limit: number },
): Promise<MaintenanceRow[]> {
  return db
    .selectFrom('maintenances')
    .selectAll()
    .where('kind', '=', kind)
    .where('scheduled_until', '>', opts.since)
    .orderBy('scheduled_for')
    .orderBy('id')
    .limit(opts.limit)
    .execute();
}

/** Everything not over yet, of both kinds: what the engine pauses paging for. */
export async function pendingPauses(db: Db, now: number): Promise<MaintenanceRow[]> {
  return db
    .selectFrom('maintenances')
    .selectAll()
    .where('scheduled_until', '>', now)
    .where((eb) => eb.or([eb('completed_at', 'is', null), eb('completed_at', '>', now)]))
    .orderBy('scheduled_for')
    .limit(500)
    .execute();
}

/** Opens the window's public incident; a second try for the same window changes nothing. */
export function openAutoIncident(
  db: Db,
  w: { id: string; startedAt: number },
  text: { name: string; body: string; impact: Impact },
  component: string,
  now: number,
): CompiledQuery[] {
  const id = autoIncidentId(w.id);
  return [
    db
      .insertInto('incidents')
      .values({
        id,
        name: text.name,
        status: 'investigating',
        impact: text.impact,
        components: JSON.stringify([component]),
        source: `window:${w.id}`,
        started_at: w.startedAt,
        created_at: now,
        updated_at: now,
        monitoring_at: null,
        resolved_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .compile(),
    db
      .insertInto('incident_updates')
      .values({
        id: `${id}-1`,
        incident_id: id,
        status: 'investigating',
        body: text.body,
        author: 'blindspot',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .compile(),
  ];
}

/** Resolves the window's public incident, unless a person already did. */
export function resolveAutoIncident(db: Db, windowId: string, body: string, now: number): CompiledQuery[] {
  const id = autoIncidentId(windowId);
  return [
    // The update first: it is written only while the incident is still open.
    sql`INSERT OR IGNORE INTO incident_updates (id, incident_id, status, body, author, created_at, updated_at)
        SELECT ${`${id}-resolved`}, id, 'resolved', ${body}, 'blindspot', ${now}, ${now} FROM incidents WHERE id = ${id} AND resolved_at IS NULL`.compile(
      db,
    ),
    db
      .updateTable('incidents')
      .set({ status: 'resolved', resolved_at: now, updated_at: now })
      .where('id', '=', id)
      .where('resolved_at', 'is', null)
      .compile(),
  ];
}
