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

/** The token from "Bearer <token>", or with `basic`, the password of "Basic base64(user:token)" (what a browser prompt sends). */
function presentedToken(header: string, basic: boolean): string | null {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer !== null) return bearer[1] as string;
  const encoded = basic ? /^Basic\s+([A-Za-z0-9+/=]{1,2000})$/i.exec(header) : null;
  if (encoded === null) return null;
  try {
    const decoded = atob(encoded[1] as string);
    const colon = decoded.indexOf(':');
    return colon < 0 || colon === decoded.length - 1 ? null : decoded.slice(colon + 1);
  } catch {
    return null; // not base64: the same answer as no credentials
  }
}

/** `basic`: also take the token as a Basic password, so a browser can open a page that needs it. */
export function verifyAdminToken(opts: { basic?: boolean; realm?: string } = {}) {
  const challenge = opts.basic ? { 'www-authenticate': `Basic realm="${opts.realm ?? 'Blindspot'}", charset="UTF-8"` } : CHALLENGE;
  const how = opts.basic
    ? 'send an admin token as "Authorization: Bearer <token>" (or as the password when the browser asks)'
    : 'send an admin token as "Authorization: Bearer <token>"';
  return createMiddleware<AppEnv>(async function verifyAdminToken(c, next) {
    const tokens = parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS);
    if (tokens.size === 0)
      throw new ApiError(
        401,
        'admin_disabled',
        'no admin token is configured; set BLINDSPOT_ADMIN_TOKENS (blindspot token makes a token and its entry)',
        challenge,
      );
    const presented = presentedToken(c.req.header('authorization') ?? '', opts.basic === true);
    if (presented === null) throw new ApiError(401, 'bad_credentials', how, challenge);
    if (presented.startsWith('whsec_'))
      throw new ApiError(
        401,
        'bad_credentials',
        'that is an agent secret; agent secrets never open admin routes: use an admin token',
        challenge,
      );
    const hash = await sha256Hex(presented);
    let found: { name: string; scopes: readonly AdminScope[] } | null = null;
    // Every hash is compared, so timing does not say which one (or whether any) came close.
    for (const [name, token] of tokens) if (sameHex(hash, token.sha256) && found === null) found = { name, scopes: token.scopes };
    if (found === null) throw new ApiError(401, 'bad_credentials', how, challenge);
    const scope = requiredScope(c.req.method);
    if (!found.scopes.includes(scope))
      throw new ApiError(
        403,
        'insufficient_scope',
        `token "${found.name}" lacks the "${scope}" scope this request needs (it has: ${found.scopes.join(', ')})`,
      );
    c.set('adminName', found.name);
    await next();
  });
}
