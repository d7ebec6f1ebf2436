import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { ApiError } from '../errors.ts';

export function requireJson() {
  return createMiddleware<AppEnv>(async function requireJson(c, next) {
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new ApiError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
    }
    await next();
  });
}
