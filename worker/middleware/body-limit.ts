import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { ApiError } from '../errors.ts';

/**
 * Reads the body into c.var.rawBody, refusing it as soon as it passes maxBytes: a declared
 * Content-Length is checked before reading, and the stream is counted while it is read, so a
 * client that lies about its length or sends none cannot make the Worker buffer more.
 */
export function bodyLimit(maxBytes: number) {
  return createMiddleware<AppEnv>(async function bodyLimit(c, next) {
    const tooLarge = () => new ApiError(413, 'body_too_large', `the body is limited to ${maxBytes} bytes`);
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();

    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = c.req.raw.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(value);
      }
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new ApiError(400, 'invalid_encoding', 'the body is not valid UTF-8');
    }
    c.set('rawBody', text);
    await next();
  });
}

/**
 * For a route that takes no body: an empty body or `{}` passes; anything else is a 400 naming the
 * route, so fields sent to it (an interval, a reason) are not taken as set when they were ignored.
 */
export function noBody() {
  const read = bodyLimit(1024);
  return createMiddleware<AppEnv>(async function noBody(c, next) {
    await read(c, async () => {
      const compact = c.var.rawBody.replace(/\s+/g, '');
      if (compact !== '' && compact !== '{}')
        throw new ApiError(
          400,
          'unexpected_body',
          `${c.req.method} ${new URL(c.req.url).pathname} takes no body (send none, or {}); nothing was changed`,
        );
      await next();
    });
  });
}
