// Admin routes take "Authorization: Bearer <token>" with a token from BLINDSPOT_ADMIN_TOKENS.
// Agent secrets and Alertmanager tokens never work here. Every token is compared in constant time.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { parseAdminTokens } from '../config.ts';
import { ApiError } from '../errors.ts';
import { sameSecret } from './same-secret.ts';

export function verifyAdminToken() {
  return createMiddleware<AppEnv>(async function verifyAdminToken(c, next) {
    const tokens = parseAdminTokens(c.env.BLINDSPOT_ADMIN_TOKENS);
    if (tokens.size === 0) throw new ApiError(401, 'admin_disabled', 'no admin token is configured; set BLINDSPOT_ADMIN_TOKENS to {"name": "<token>"} (openssl rand -hex 32 makes one)', { 'www-authenticate': 'Bearer' });
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    let ok = false;
    // Every token is compared, so timing does not say which one (or whether any) came close.
    for (const token of tokens.values()) if (match !== null && (await sameSecret(match[1] as string, token))) ok = true;
    if (!ok) throw new ApiError(401, 'bad_credentials', 'send an admin token as "Authorization: Bearer <token>"', { 'www-authenticate': 'Bearer' });
    await next();
  });
}
