// The credentials object: agents added through the admin API (blindspot agent add) and their keys.
// Heartbeats ask it for an agent's secrets when BLINDSPOT_AGENT_SECRETS does not name the agent; the
// answer is kept in this isolate for CACHE_MS, so a fleet's heartbeats do not all queue on one object.
// Adding, rotating or revoking through this isolate clears its cache at once; other isolates see a
// revocation within CACHE_MS.
import type { Env } from '../env.ts';
import type { ManagedToken } from '../store/admin-tokens.ts';

/** How long one isolate trusts what the credentials object said about an agent. */
export const CACHE_MS = 10_000;
export const MAX_CACHED = 5_000;

export const credentials = (env: Env) => env.WATCHDOG.get(env.WATCHDOG.idFromName('credentials'));
/** The store as an admin route's 503 names it when it cannot be reached (errors.ts fromObject). */
export const CREDENTIALS_STORE = 'the credentials store';

const cache = new Map<string, { secrets: readonly string[]; at: number }>();

/** The managed secrets of an agent (none when it was never added, or was revoked). */
export async function managedSecrets(env: Env, agentId: string, now = Date.now()): Promise<readonly string[]> {
  const hit = cache.get(agentId);
  if (hit !== undefined && now - hit.at < CACHE_MS && now >= hit.at) return hit.secrets;
  let secrets: readonly string[];
  try {
    secrets = await credentials(env).agentSecrets(agentId);
  } catch (e) {
    // What this isolate last knew beats refusing a known agent's heartbeat while the object is away.
    if (hit !== undefined) return hit.secrets;
    throw e;
  }
  remember(cache, agentId, { secrets, at: now });
  return secrets;
}

/**
 * Keeps an answer, forgetting the one kept longest ago past MAX_CACHED (not all of them: what an
 * isolate knew is what it falls back on while the credentials object is away).
 */
export function remember<V>(kept: Map<string, V>, key: string, value: V): void {
  kept.delete(key);
  if (kept.size >= MAX_CACHED) {
    const oldest = kept.keys().next();
    if (oldest.done !== true) kept.delete(oldest.value);
  }
  kept.set(key, value);
}

/** After this isolate changed an agent's keys. */
export function forgetSecrets(agentId: string): void {
  cache.delete(agentId);
}

const tokenCache = new Map<string, { token: ManagedToken | null; at: number }>();

/** The managed admin token with this SHA-256, or null; answers (also "none") kept CACHE_MS per isolate. */
export async function managedAdminToken(env: Env, sha256: string, now = Date.now()): Promise<ManagedToken | null> {
  const hit = tokenCache.get(sha256);
  if (hit !== undefined && now - hit.at < CACHE_MS && now >= hit.at) return hit.token;
  const token = await credentials(env).adminTokenByHash(sha256);
  remember(tokenCache, sha256, { token, at: now });
  return token;
}

/** After this isolate added or revoked a token. */
export function forgetAdminTokens(): void {
  tokenCache.clear();
}
