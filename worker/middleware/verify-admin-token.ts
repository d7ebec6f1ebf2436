// Admin routes take "Authorization: Bearer <token>" (Hono's bearerAuth); pages a browser opens also
// take the token as a Basic password (Hono's basicAuth), so the browser's prompt works.
// BLINDSPOT_ADMIN_TOKENS keeps only each token's SHA-256 and its scopes (so does the credentials object,
// for tokens made with blindspot token add): reading (GET) needs "read",
// anything else "write". The presented token is hashed and compared with every configured hash
// (Hono's timingSafeEqual). Agent secrets and Alertmanager tokens never work here, even if someone
// configured one as an admin token.
import type { Context, MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { bearerAuth } from 'hono/bearer-auth';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { AppEnv } from '../app-env.ts';
import { type AdminScope, parseAdminTokens } from '../config.ts';
import { managedAdminToken } from '../durable/credentials.ts';
import { ApiError } from '../errors.ts';
import type { ManagedToken } from '../store/admin-tokens.ts';

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function requiredScope(method: string): AdminScope {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** True when the token is configured and has the scope; a known token without it is a 403. */
async function verifyToken(presented: string, c: Context<AppEnv>): Promise<boolean> {
  if (presented.startsWith('whsec_'))
    throw new ApiError(401, 'bad_credentials', 'that is an agent secret; agent secrets never open admin routes: use an admin token');
  const hash = await sha256Hex(presented);
  let found: { name: string; scopes: readonly AdminScope[] } | null = null;
  // Every hash is compared, so timing does not say which one (or whether any) came close.
  for (const [name, token] of parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS))
    if ((await timingSafeEqual(hash, token.sha256)) && found === null) found = { name, scopes: token.scopes };
  if (found === null) found = await managedToken(c, hash);
  if (found === null) return false;
  const scope = requiredScope(c.req.method);
  if (!found.scopes.includes(scope))
    throw new ApiError(
      403,
      'insufficient_scope',
      `token "${found.name}" lacks the "${scope}" scope this request needs (it has: ${found.scopes.join(', ')})`,
    );
  c.set('adminName', found.name);
  return true;
}

/** A token made through the admin API (blindspot token add); 503 when they cannot be read just now. */
async function managedToken(c: Context<AppEnv>, hash: string): Promise<{ name: string; scopes: readonly AdminScope[] } | null> {
  let token: ManagedToken | null;
  try {
    token = await managedAdminToken(c.env, hash);
  } catch (e) {
    console.error(`the credentials object did not answer an admin token check: ${e instanceof Error ? e.message : String(e)}`);
    throw new ApiError(
      503,
      'credentials_unavailable',
      'the Worker could not check this token just now; retry, or use a token of BLINDSPOT_ADMIN_TOKENS',
    );
  }
  return token === null ? null : { name: token.name, scopes: token.scopes as AdminScope[] };
}

/** `basic`: also take the token as a Basic password, so a browser can open a page that needs it. */
export function verifyAdminToken(opts: { basic?: boolean; realm?: string } = {}) {
  const realm = opts.realm ?? 'Blindspot';
  const how = opts.basic
    ? 'send an admin token as "Authorization: Bearer <token>" (or as the password when the browser asks)'
    : 'send an admin token as "Authorization: Bearer <token>"';
  const challenge = opts.basic ? `Basic realm="${realm}", charset="UTF-8"` : 'Bearer';
  const bearer = bearerAuth<AppEnv>({ verifyToken });
  const basic: MiddlewareHandler<AppEnv> = basicAuth({
    // Hono types this context without the app's bindings; it is the same request's.
    verifyUser: (_user, password, c) => password !== '' && verifyToken(password, c as Context<AppEnv>),
    realm,
  });
  return createMiddleware<AppEnv>(async function verifyAdminToken(c, next) {
    if (parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS).size === 0)
      throw new ApiError(
        401,
        'admin_disabled',
        'no admin token is configured; set BLINDSPOT_ADMIN_TOKENS (blindspot token makes a token and its entry)',
        { 'www-authenticate': challenge },
      );
    try {
      const useBasic = opts.basic === true && /^basic\s/i.test(c.req.header('authorization') ?? '');
      return await (useBasic ? basic : bearer)(c, next);
    } catch (e) {
      // Hono's refusals (no, malformed or unknown credentials) become the API's JSON error, and every
      // 401 carries the challenge this route asks with.
      if (e instanceof HTTPException && (e.status === 400 || e.status === 401))
        throw new ApiError(401, 'bad_credentials', how, { 'www-authenticate': challenge });
      if (e instanceof ApiError && e.status === 401) throw new ApiError(401, e.code, e.message, { 'www-authenticate': challenge });
      throw e;
    }
  });
}
