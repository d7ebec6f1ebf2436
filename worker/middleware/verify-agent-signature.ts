// Authenticates an agent request: Standard Webhooks headers, timestamp tolerance, HMAC signature.
// Replays are caught later, in the agent's Durable Object, which serialises that agent's requests.
import { createMiddleware } from 'hono/factory';
import { AGENT_ID_PATTERN, TIMESTAMP_TOLERANCE_S } from '../../protocol/heartbeat.ts';
import { verify } from '../../protocol/signature.ts';
import type { AppEnv, KeysFrom } from '../app-env.ts';
import { agentSecretsSetting } from '../config.ts';
import type { Env } from '../env.ts';
import { managedSecrets } from '../durable/credentials.ts';
import { ApiError } from '../errors.ts';

const WEBHOOK_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** Runs before the body is read: rejects malformed ids and unknown agents without buffering anything. */
export function identifyAgent() {
  return createMiddleware<AppEnv>(async function identifyAgent(c, next) {
    const agentId = c.req.param('agent') ?? '';
    if (!AGENT_ID_PATTERN.test(agentId)) {
      throw new ApiError(400, 'invalid_agent_id', 'agent ids match ^[a-z0-9][a-z0-9_.-]{0,62}$');
    }
    const setting = agentSecretsSetting(c.env.BLINDSPOT_AGENT_SECRETS);
    let secrets = setting.secrets.get(agentId) ?? [];
    if (secrets.length === 0) {
      const broken = setting.errors.get(agentId) ?? setting.errors.get('*');
      if (broken !== undefined)
        throw new ApiError(401, 'agent_disabled', `this agent's secret setting cannot be used, so its heartbeats are refused: ${broken}`);
      const managed = await managedOrUnavailable(c.env, agentId);
      secrets = managed.secrets;
      c.set('keysFrom', managed.from);
      if (secrets.length === 0)
        throw new ApiError(
          401,
          'unknown_agent',
          `no secret is configured for agent "${agentId}"; add it with blindspot agent add ${agentId} (or to BLINDSPOT_AGENT_SECRETS)`,
        );
    }
    c.set('agentSecrets', secrets);
    const id = c.req.header('webhook-id');
    const timestamp = c.req.header('webhook-timestamp');
    const signature = c.req.header('webhook-signature');
    if (!id || !timestamp || !signature) {
      throw new ApiError(400, 'missing_signature_headers', 'webhook-id, webhook-timestamp and webhook-signature headers are required');
    }
    if (!WEBHOOK_ID_PATTERN.test(id))
      throw new ApiError(400, 'invalid_webhook_id', 'webhook-id is 1 to 128 printable ASCII characters without spaces');
    if (!/^\d{1,12}$/.test(timestamp))
      throw new ApiError(400, 'invalid_timestamp', 'webhook-timestamp is an integer count of unix seconds');
    const skewS = Number(timestamp) - Math.floor(Date.now() / 1000);
    if (Math.abs(skewS) > TIMESTAMP_TOLERANCE_S) {
      throw new ApiError(
        401,
        'timestamp_out_of_range',
        `webhook-timestamp is ${skewS} s from the Worker's clock; at most ${TIMESTAMP_TOLERANCE_S} s is accepted (check the agent's clock)`,
      );
    }
    c.set('agentId', agentId);
    await next();
  });
}

/** Runs after bodyLimit: checks the signature over the exact bytes received. */
export function verifyAgentSignature() {
  return createMiddleware<AppEnv>(async function verifyAgentSignature(c, next) {
    const ok = await verify(
      c.var.agentSecrets,
      c.req.header('webhook-id') ?? '',
      c.req.header('webhook-timestamp') ?? '',
      c.var.rawBody,
      c.req.header('webhook-signature') ?? '',
    );
    if (!ok)
      throw new ApiError(
        401,
        'invalid_signature',
        'no webhook-signature matches a secret of this agent over "{webhook-id}.{webhook-timestamp}.{body}"',
      );
    await next();
  });
}

/**
 * An added agent's secrets: from the credentials store (or what this isolate cached of it); when the
 * store cannot be reached, from the copy the agent's own object keeps (durable/kept-secrets.ts); 503
 * only when neither answers.
 */
async function managedOrUnavailable(env: Env, agentId: string): Promise<{ secrets: readonly string[]; from: KeysFrom }> {
  try {
    return { secrets: await managedSecrets(env, agentId), from: 'store' };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const kept = await env.AGENT.get(env.AGENT.idFromName(agentId))
      .keptSecrets()
      .catch(() => null);
    if (kept !== null) {
      console.error(`the credentials store did not answer for agent "${agentId}" (${why}); its object's copy of its keys verifies it`);
      return { secrets: kept, from: 'copy' };
    }
    console.error(`the credentials store did not answer for agent "${agentId}": ${why}`);
    throw new ApiError(
      503,
      'credentials_unavailable',
      "the Worker could not read this agent's keys just now; retry (the agent keeps the heartbeat)",
    );
  }
}
