import type { CompiledQuery } from 'kysely';
import { type AlertmanagerAlert, endsAtOrNull } from '../../protocol/alertmanager.ts';
import type { Db } from './db.ts';

/** One row per alert occurrence (source, fingerprint, start); a later notification updates its status and end. */
export function upsertEvidence(db: Db, source: string, alert: AlertmanagerAlert, now: number): CompiledQuery {
  const row = {
    source,
    fingerprint: alert.fingerprint,
    starts_at: Date.parse(alert.startsAt),
    alertname: alert.labels.alertname ?? '',
    status: alert.status,
    ends_at: endsAtOrNull(alert),
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    received_at: now,
  };
  return db
    .insertInto('alert_evidence')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['source', 'fingerprint', 'starts_at']).doUpdateSet({ status: row.status, ends_at: row.ends_at, received_at: now }),
    )
    .compile();
}
