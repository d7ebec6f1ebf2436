// The agent's one HTTP client: a request over node:http or node:https with a deadline and a cap on the
// answer's size. Not the global fetch: Node's fetch (undici) loads its WebAssembly HTTP parser into
// every process that calls it, about 16 MB of resident memory, a fifth of the agent's budget, for no
// feature the agent uses (measured with bench:agent).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
  /** Answers longer than this are broken off as an error; default 64 MiB. */
  maxBytes?: number;
}

/** Thrown when the deadline passes; `name` is `TimeoutError`, as for `AbortSignal.timeout`. */
export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** One request. Rejects on a network error (with Node's `code`, e.g. ECONNREFUSED), a deadline or an oversized answer; any HTTP status resolves. */
export function requestText(url: string | URL, options: HttpRequest): Promise<HttpAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return Promise.reject(new Error(`only http: and https: URLs can be asked, not ${target.protocol}`));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (e: Error) => {
      settle(() => reject(e));
      req.destroy();
    };
    const req = send(target, { method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > maxBytes) fail(new Error(`the answer is longer than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () =>
        settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })),
      );
    });
    const timer = setTimeout(() => fail(new HttpTimeoutError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('error', fail);
    req.end(options.body);
  });
}

/** The short reason a request failed: Node's error code where there is one (ECONNREFUSED), else its message. */
export function reasonOf(e: unknown): string {
  if (e instanceof Error) {
    const withCode = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    return withCode.code ?? withCode.cause?.code ?? withCode.cause?.message ?? e.message;
  }
  return String(e);
}

/** True for a request that ran out of its deadline. */
export const isTimeout = (e: unknown): boolean => e instanceof Error && e.name === 'TimeoutError';
