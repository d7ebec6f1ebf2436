// Alertmanager's webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
import * as v from 'valibot';

export const MAX_ALERTMANAGER_BODY_BYTES = 1024 * 1024;

const Labels = v.pipe(
  v.record(v.pipe(v.string(), v.maxLength(256)), v.pipe(v.string(), v.maxLength(4096))),
  v.maxEntries(128, 'at most 128 labels per alert'),
);

const time = (field: string) =>
  v.pipe(
    v.string(`${field} is an RFC 3339 time`),
    v.check((s) => Number.isFinite(Date.parse(s)), `${field} is not a time`),
  );

const AlertSchema = v.object({
  status: v.picklist(['firing', 'resolved'], 'status is "firing" or "resolved"'),
  labels: Labels,
  annotations: v.optional(Labels, {}),
  startsAt: time('startsAt'),
  endsAt: v.optional(time('endsAt')),
  generatorURL: v.optional(v.string()),
  fingerprint: v.pipe(v.string('fingerprint is a string'), v.minLength(1), v.maxLength(64)),
});

export const AlertmanagerPayloadSchema = v.object({
  version: v.literal('4', 'version must be "4" (Alertmanager webhook payload v4)'),
  status: v.picklist(['firing', 'resolved']),
  receiver: v.optional(v.string()),
  groupKey: v.optional(v.string()),
  alerts: v.pipe(
    v.array(AlertSchema, 'alerts is a list'),
    v.maxLength(1000, 'at most 1000 alerts per notification (set max_alerts in webhook_config)'),
  ),
});

export type AlertmanagerPayload = v.InferOutput<typeof AlertmanagerPayloadSchema>;
export type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];

/** Alertmanager sends endsAt 0001-01-01T00:00:00Z for an alert with no known end. */
export function endsAtOrNull(alert: AlertmanagerAlert): number | null {
  if (alert.endsAt === undefined) return null;
  const t = Date.parse(alert.endsAt);
  return t <= 0 ? null : t;
}
