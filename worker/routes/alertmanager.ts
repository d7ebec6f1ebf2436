// POST /v1/alertmanager/{source}: Alertmanager's webhook receiver. The always-firing Watchdog alert is a
// heartbeat of the whole alert path (rule evaluation → Alertmanager → notification); every other alert
// is stored as evidence for gap reports and never paged from here.
import { Hono } from 'hono';
import * as v from 'valibot';
import { AlertmanagerPayloadSchema, MAX_ALERTMANAGER_BODY_BYTES } from '../../protocol/alertmanager.ts';
import { AGENT_ID_PATTERN, describeIssues } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import { ApiError, parseJsonBody } from '../errors.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { requireJson } from '../middleware/require-json.ts';
import { verifyAlertmanagerAuth } from '../middleware/verify-alertmanager-auth.ts';
import { createDb, runBatch } from '../store/db.ts';
import { upsertEvidence } from '../store/evidence.ts';
import { watchConfig } from '../watch-config.ts';
import { alertSourceSubject } from '../core/subject.ts';

export const alertmanager = new Hono<AppEnv>();

alertmanager.post('/:source', checkSourceId, verifyAlertmanagerAuth(), requireJson(), bodyLimit(MAX_ALERTMANAGER_BODY_BYTES), async (c) => {
  const sourceId = c.req.param('source');
  const source = watchConfig(c.env).config.alertSources.find((s) => s.id === sourceId);
  if (source === undefined)
    throw new ApiError(
      404,
      'unknown_source',
      `"${sourceId}" is not under alertmanager.sources in the watchdog configuration; add it with its interval_s`,
    );
  const json = parseJsonBody(c.var.rawBody);
  const parsed = v.safeParse(AlertmanagerPayloadSchema, json);
  if (!parsed.success) throw new ApiError(422, 'invalid_payload', describeIssues(parsed.issues));

  const now = Date.now();
  const isWatchdog = (a: (typeof parsed.output.alerts)[number]) => a.labels.alertname === source.alertname;
  const firing = parsed.output.alerts.filter((a) => isWatchdog(a) && a.status === 'firing');
  // A Watchdog that says when Prometheus evaluated it must say a recent time: a replayed or
  // long-delayed notification is not proof that alerts get out now.
  const stale = firing.map((a) => watchdogStaleness(a.annotations['blindspot_evaluated_at'], now, source.maxAgeS)).find((r) => r !== null);
  const watchdogFiring = firing.length > 0 && stale === undefined;
  if (stale !== undefined) console.error(`alertmanager ${source.id}: Watchdog not taken: ${stale}`);
  const evidence = parsed.output.alerts.filter((a) => !isWatchdog(a));
  try {
    if (watchdogFiring) await c.env.AGENT.get(c.env.AGENT.idFromName(alertSourceSubject(source.id))).receiveWatchdog(source.id, now);
    const db = createDb(c.env.DB);
    await runBatch(
      c.env.DB,
      evidence.map((a) => upsertEvidence(db, source.id, a, now)),
    );
  } catch (e: unknown) {
    console.error(`alertmanager ${source.id}: notification not taken:`, e);
    throw new ApiError(503, 'temporarily_unavailable', 'the watchdog could not take this notification now; Alertmanager will retry', {
      'retry-after': '10',
    });
  }
  return c.json({ watchdog: watchdogFiring, evidence: evidence.length, ...(stale === undefined ? {} : { refused: stale }) }, 200);
});

/** Why a Watchdog's `blindspot_evaluated_at` (Unix seconds) is not recent proof, or null when it is (or is absent). */
function watchdogStaleness(annotation: string | undefined, now: number, maxAgeS: number): string | null {
  if (annotation === undefined) return null;
  const at = Number(annotation) * 1000;
  if (!Number.isFinite(at))
    return `blindspot_evaluated_at "${annotation.slice(0, 40)}" is not Unix seconds ({{ $value | printf "%.0f" }} of time())`;
  const ageS = Math.round((now - at) / 1000);
  if (ageS > maxAgeS)
    return `it was evaluated ${ageS} s ago (blindspot_evaluated_at), more than max_age_s ${maxAgeS}: a replayed or late notification`;
  if (ageS < -maxAgeS) return `it says it was evaluated ${-ageS} s in the future (blindspot_evaluated_at): check Prometheus's clock`;
  return null;
}

async function checkSourceId(c: { req: { param: (name: string) => string | undefined } }, next: () => Promise<void>) {
  if (!AGENT_ID_PATTERN.test(c.req.param('source') ?? ''))
    throw new ApiError(400, 'invalid_source_id', 'source ids match ^[a-z0-9][a-z0-9_.-]{0,62}$');
  await next();
}
