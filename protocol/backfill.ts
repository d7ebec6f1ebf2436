// Backfill: heartbeats an agent spooled while the Worker was unreachable, sent later in batches to
// POST /v1/agents/{agent}/backfill, signed like a heartbeat. Each keeps its original sent_at. They
// fill history and gap reports and never page.
import * as v from 'valibot';
import { describeIssues, HeartbeatSchema, type Heartbeat, PROTOCOL_VERSION } from './heartbeat.ts';

export const MAX_BACKFILL_HEARTBEATS = 50;
/** 50 heartbeats of up to 16 KiB each would be 800 KiB; batches are cut to stay under this. */
export const MAX_BACKFILL_BYTES = 512 * 1024;
/** Older heartbeats are refused: the agent's spool keeps at most this long by default too. */
export const MAX_BACKFILL_AGE_S = 7 * 86_400;

export const BackfillSchema = v.strictObject(
  {
    v: v.literal(PROTOCOL_VERSION, `v must be ${PROTOCOL_VERSION}`),
    heartbeats: v.pipe(
      v.array(HeartbeatSchema, 'heartbeats is a list of heartbeat bodies'),
      v.minLength(1, 'heartbeats cannot be empty'),
      v.maxLength(MAX_BACKFILL_HEARTBEATS, `at most ${MAX_BACKFILL_HEARTBEATS} heartbeats per batch`),
    ),
  },
  (issue) => `unknown key ${String(issue.received)}: a backfill body takes v and heartbeats`,
);

export type BackfillResult = { ok: true; heartbeats: Heartbeat[] } | { ok: false; message: string };

/** Validates the batch and each heartbeat's time: not from the future beyond the skew tolerance, not older than the age limit. */
export function parseBackfill(input: unknown, now: number, toleranceS: number): BackfillResult {
  const parsed = v.safeParse(BackfillSchema, input);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.issues) };
  for (const [i, hb] of parsed.output.heartbeats.entries()) {
    const sentAt = Date.parse(hb.sent_at);
    if (sentAt > now + toleranceS * 1000)
      return { ok: false, message: `heartbeats.${i}.sent_at is in the future; check the agent's clock` };
    if (sentAt < now - MAX_BACKFILL_AGE_S * 1000)
      return { ok: false, message: `heartbeats.${i}.sent_at is older than ${MAX_BACKFILL_AGE_S / 86_400} days; it is too old to backfill` };
  }
  return { ok: true, heartbeats: parsed.output.heartbeats };
}
