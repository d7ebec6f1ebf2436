// Admin routes take "Authorization: Bearer <token>". BLINDSPOT_ADMIN_TOKENS keeps only each token's
// SHA-256 and its scopes: reading (GET) needs "read", anything else "write". The presented token is
// hashed and compared with every configured hash in constant time. Agent secrets and Alertmanager
// tokens never work here, even if someone configured one as an admin token.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { type AdminScope, parseAdminTokens } from '../config.ts';
import { ApiError } from '../errors.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer' };

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Equal-length hex strings compared without an early exit. */
function sameHex(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export function requiredScope(method: string): AdminScope {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export function verifyAdminToken() {
  return createMiddleware<AppEnv>(async function verifyAdminToken(c, next) {
    const tokens = parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS);
    if (tokens.size === 0) throw new ApiError(401, 'admin_disabled', 'no admin token is configured; set BLINDSPOT_ADMIN_TOKENS (blindspot token makes a token and its entry)', CHALLENGE);
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (match === null) throw new ApiError(401, 'bad_credentials', 'send an admin token as "Authorization: Bearer <token>"', CHALLENGE);
    const presented = match[1] as string;
    if (presented.startsWith('whsec_')) throw new ApiError(401, 'bad_credentials', 'that is an agent secret; agent secrets never open admin routes: use an admin token', CHALLENGE);
    const hash = await sha256Hex(presented);
    let found: { name: string; scopes: readonly AdminScope[] } | null = null;
    // Every hash is compared, so timing does not say which one (or whether any) came close.
    for (const [name, token] of tokens) if (sameHex(hash, token.sha256) && found === null) found = { name, scopes: token.scopes };
    if (found === null) throw new ApiError(401, 'bad_credentials', 'send an admin token as "Authorization: Bearer <token>"', CHALLENGE);
    const scope = requiredScope(c.req.method);
    if (!found.scopes.includes(scope)) throw new ApiError(403, 'insufficient_scope', `token "${found.name}" lacks the "${scope}" scope this request needs (it has: ${found.scopes.join(', ')})`);
    c.set('adminName', found.name);
    await next();
  });
}
