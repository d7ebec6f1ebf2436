import { Hono } from 'hono';
import { MAX_BACKFILL_AGE_S, MAX_BACKFILL_BYTES, parseBackfill } from '../../protocol/backfill.ts';
import { MAX_BODY_BYTES, parseHeartbeat, TIMESTAMP_TOLERANCE_S } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import type { AgentMonitor } from '../durable/agent-monitor.ts';
import { ApiError, parseJsonBody } from '../errors.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { requireJson } from '../middleware/require-json.ts';
import { identifyAgent, verifyAgentSignature } from '../middleware/verify-agent-signature.ts';
import { backfillWrites } from '../store/backfill.ts';
import { createDb, runBatch } from '../store/db.ts';
import { watchConfig } from '../watch-config.ts';
import type { SilenceSettings } from '../../config/resolve.ts';

export const heartbeats = new Hono<AppEnv>();

/**
 * The Retry-After of a heartbeat the agent's object could not take. Well under STALL_HOLD_MS: a
 * Worker back from a restart holds a late verdict that long for the agent's retry (agent/loop.ts
 * retries after the larger of this and its own backoff, at most half an interval), so a heartbeat
 * refused right after the restart still comes in time to be counted, whatever the interval.
 */
export const HEARTBEAT_RETRY_AFTER_S = 2;

heartbeats.post('/:agent/heartbeats', identifyAgent(), requireJson(), bodyLimit(MAX_BODY_BYTES), verifyAgentSignature(), async (c) => {
  const json = parseJsonBody(c.var.rawBody);
  const parsed = parseHeartbeat(json);
  if (!parsed.ok) throw new ApiError(422, 'invalid_heartbeat', parsed.message);
  checkDeclaredBudget(parsed.heartbeat, watchConfig(c.env).config.silence);

  const agentId = c.var.agentId;
  const stub = c.env.AGENT.get(c.env.AGENT.idFromName(agentId));
  let result: Awaited<ReturnType<typeof stub.receiveHeartbeat>>;
  try {
    // The object decides on its own clock: a time stamped here could be older than what it already decided.
    result = await stub.receiveHeartbeat(agentId, c.req.header('webhook-id') ?? '', parsed.heartbeat);
  } catch (e: unknown) {
    // The agent's Durable Object could not be reached or could not store: nothing was taken, retry.
    console.error(`agent ${agentId}: heartbeat not taken:`, e);
    throw new ApiError(503, 'temporarily_unavailable', 'the watchdog could not take this heartbeat now; retry it later', {
      'retry-after': String(HEARTBEAT_RETRY_AFTER_S),
    });
  }
  switch (result.status) {
    case 'accepted':
      // An added agent whose object keeps no copy of its keys yet (added before copies were kept) gets one.
      if (c.var.keysFrom === 'store' && !result.keysKept) c.executionCtx.waitUntil(keepKeys(stub, agentId, c.var.agentSecrets));
      return c.json({ accepted: true, deadline_at: new Date(result.deadlineAt).toISOString() }, 202);
    case 'replay':
      throw new ApiError(409, 'replay', 'this webhook-id was already accepted in the last 10 minutes');
    case 'out_of_order':
      throw new ApiError(409, 'out_of_order', `seq must grow within one boot; the last accepted seq is ${result.lastSeq}`);
    case 'over_limit':
      throw new ApiError(422, 'too_many_monitors', result.message);
    case 'retired':
      throw new ApiError(401, 'unknown_agent', 'this agent was revoked; blindspot agent add gives it a new secret');
  }
});

async function keepKeys(stub: DurableObjectStub<AgentMonitor>, agentId: string, secrets: readonly string[]): Promise<void> {
  await stub
    // Only if it still has none: an admin change since this heartbeat's answer (a revocation) wins.
    .keepSecrets([...secrets], true)
    .catch((e: unknown) => console.error(`agent ${agentId}: its object could not keep a copy of its keys:`, e));
}

/**
 * A dry run for `blindspot-agent doctor`: the same identification, signature and body checks as a
 * heartbeat, and the same answers when they fail, but nothing is recorded and nothing pages.
 */
heartbeats.post('/:agent/check', identifyAgent(), requireJson(), bodyLimit(MAX_BODY_BYTES), verifyAgentSignature(), (c) => {
  const parsed = parseHeartbeat(parseJsonBody(c.var.rawBody));
  if (!parsed.ok) throw new ApiError(422, 'invalid_heartbeat', parsed.message);
  checkDeclaredBudget(parsed.heartbeat, watchConfig(c.env).config.silence);
  return c.json({
    ok: true,
    agent: c.var.agentId,
    message: 'this agent is known, its signature matches and its heartbeat is valid; nothing was recorded',
  });
});

/** An agent may not declare itself good for longer than the configuration allows. */
function checkDeclaredBudget(hb: { interval_s: number; grace_s?: number | undefined }, limits: SilenceSettings): void {
  if (hb.interval_s > limits.maxIntervalS)
    throw new ApiError(
      422,
      'interval_too_long',
      `interval_s is ${hb.interval_s}; this watchdog takes at most ${limits.maxIntervalS} (silence.max_interval_s in its configuration). Send heartbeats more often`,
    );
  if (hb.grace_s !== undefined && hb.grace_s > limits.maxGraceS)
    throw new ApiError(
      422,
      'grace_too_long',
      `grace_s is ${hb.grace_s}; this watchdog takes at most ${limits.maxGraceS} (silence.max_grace_s in its configuration)`,
    );
}

/** Everything that may be backfilled was sent within 7 days: the budget counts a day more. */
const BACKFILL_HORIZON_MS = (MAX_BACKFILL_AGE_S + 86_400) * 1000;
/** A heartbeat every 5 s over that horizon. */
export const MAX_BACKFILLED_IN_HORIZON = Math.ceil(BACKFILL_HORIZON_MS / 5000);

/**
 * Spooled heartbeats, sent after live ones resume: stored as history (one batch: all or nothing,
 * idempotent per agent, boot and seq), never evaluated, never paging.
 */
heartbeats.post('/:agent/backfill', identifyAgent(), requireJson(), bodyLimit(MAX_BACKFILL_BYTES), verifyAgentSignature(), async (c) => {
  const json = parseJsonBody(c.var.rawBody);
  const now = Date.now();
  const parsed = parseBackfill(json, now, TIMESTAMP_TOLERANCE_S);
  if (!parsed.ok) throw new ApiError(422, 'invalid_backfill', parsed.message);
  const db = createDb(c.env.DB);
  // Bounded per agent: no more history inside the backfill horizon than a real agent could spool there
  // (one key cannot fill D1, whatever boots and seqs it invents).
  const stored = await db
    .selectFrom('backfilled_heartbeats')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('agent_id', '=', c.var.agentId)
    .where('sent_at', '>=', now - BACKFILL_HORIZON_MS)
    .executeTakeFirst()
    .catch(() => undefined);
  if (stored !== undefined && Number(stored.n) + parsed.heartbeats.length > MAX_BACKFILLED_IN_HORIZON)
    throw new ApiError(
      429,
      'backfill_budget',
      `this agent already backfilled ${stored.n} heartbeats sent in the last ${BACKFILL_HORIZON_MS / 86_400_000} days; at most ${MAX_BACKFILLED_IN_HORIZON} are kept (a heartbeat every 5 s over that time); retry later`,
      { 'retry-after': '3600' },
    );
  try {
    await runBatch(c.env.DB, backfillWrites(db, c.var.agentId, parsed.heartbeats, now));
  } catch (e: unknown) {
    console.error(`agent ${c.var.agentId}: backfill not stored:`, e);
    throw new ApiError(503, 'temporarily_unavailable', 'the watchdog could not store this backfill now; retry it later', {
      'retry-after': '30',
    });
  }
  return c.json({ accepted: parsed.heartbeats.length }, 202);
});
