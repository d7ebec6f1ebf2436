// Authenticates Alertmanager: a bearer token, or basic auth whose password is the token, as
// Alertmanager's http_config can send either. Compared in constant time (Hono's timingSafeEqual). Agent secrets never work here.
import { createMiddleware } from 'hono/factory';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { AppEnv } from '../app-env.ts';
import { parseAlertmanagerTokens } from '../config.ts';
import { ApiError } from '../errors.ts';

export function verifyAlertmanagerAuth() {
  return createMiddleware<AppEnv>(async function verifyAlertmanagerAuth(c, next) {
    const source = c.req.param('source') ?? '';
    const expected = parseAlertmanagerTokens(c.env.BLINDSPOT_ALERTMANAGER_TOKENS).get(source);
    if (expected === undefined) {
      throw new ApiError(
        401,
        'unknown_source',
        `no token is configured for Alertmanager source "${source}"; add it to BLINDSPOT_ALERTMANAGER_TOKENS`,
        { 'www-authenticate': 'Bearer' },
      );
    }
    const given = presentedToken(c.req.header('authorization'));
    if (given === null || !(await timingSafeEqual(given, expected))) {
      throw new ApiError(401, 'bad_credentials', 'send the source token as "Authorization: Bearer <token>" or as the basic-auth password', {
        'www-authenticate': 'Bearer',
      });
    }
    await next();
  });
}

function presentedToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (value === undefined) return null;
  if (/^bearer$/i.test(scheme ?? '')) return value;
  if (!/^basic$/i.test(scheme ?? '')) return null;
  let decoded: string;
  try {
    decoded = atob(value);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}
