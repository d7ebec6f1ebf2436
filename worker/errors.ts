import { isD1Outage } from './core/replication-policy.ts';

/** A client-facing error: becomes `{"error":{"code","message"}}` with its status in app.onError. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The request body (read by bodyLimit) as JSON, or a 400 that says it is not. */
export function parseJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'malformed_json', 'the body is not valid JSON');
  }
}

/**
 * Calls a Durable Object for a route. If it cannot answer (reset under the call, overloaded,
 * unreachable, or its storage failed), the client gets a 503 with Retry-After naming `what`, not a
 * 500: the request was good and may be sent again. ApiErrors pass through.
 */
export async function fromObject<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e: unknown) {
    if (e instanceof ApiError) throw e;
    console.error(`${what} could not answer:`, e);
    throw new ApiError(503, 'temporarily_unavailable', `${what} could not answer now; retry in a few seconds`, { 'retry-after': '5' });
  }
}

/**
 * The answer to a request that met a D1 outage (an admin read or write, the gap report): a 503 with
 * Retry-After, not a 500. The request was good, and a refused write wrote nothing (each admin write
 * is one statement or one batch); heartbeats, paging and the public surfaces do not
 * wait on D1. Null for any other error.
 */
export function d1Unavailable(e: unknown): ApiError | null {
  if (!(e instanceof Error) || !isD1Outage(e.message)) return null;
  return new ApiError(
    503,
    'storage_unavailable',
    "the watchdog's database (D1) could not answer now; retry in a few seconds (heartbeats, paging and the status page do not wait on it)",
    { 'retry-after': '5' },
  );
}
