// The one contract every channel implements, and the HTTP call they share. send() reports every
// failure as a value — a refused connection, a timeout, a 429 — and never throws into the loop.
import { type Outcome, outcomeOf, parseRetryAfter } from '../core/retry-schedule.ts';
import type { WindowEventType } from '../core/window-event.ts';
import type { EventBody } from './render.ts';

export interface Notification {
  /** Stable per event and channel: `<event id>@<channel>`. */
  id: string;
  /** Stable per event: the window id plus what happened (opened, escalated:blind, repeat:2, closed). */
  eventId: string;
  type: WindowEventType;
  /** The event body as stored when the window changed; sent as-is by the generic webhook. */
  payload: string;
  body: EventBody;
}

export interface SendResult {
  outcome: Outcome;
  status: number | null;
  latencyMs: number;
  /** Safe to show and store: never a URL, key or token. */
  error: string | null;
  retryAfterS: number | null;
}

export interface Channel {
  id: string;
  type: string;
  /** How long one send may take (its request's time-out): the outbox's lease on a row outlives it. */
  timeoutMs: number;
  send(n: Notification): Promise<SendResult>;
}

export interface PostOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Reads the error out of a failed answer's body (provider messages are short and safe to keep). */
  describe?: (status: number, text: string) => string;
  /** Secret values to blank out of anything kept from the answer. */
  redact?: readonly string[];
}

const MAX_ERROR_BODY = 300;
/** Of a failed answer's body, at most this much is read; the rest is not waited for. */
const MAX_ERROR_READ_BYTES = 4096;

/**
 * POSTs JSON and classifies the answer. The URL is never put in an error: it may carry a token. A
 * redirect is not followed (the page would go to a host nobody configured, keys in its headers): it
 * is retried, and says so. Of an error's body only the first few KB are read.
 */
export async function postJson(url: string, body: string, options: PostOptions, clock: () => number = Date.now): Promise<SendResult> {
  const started = clock();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'blindspot-worker', ...options.headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = response.ok ? (await response.body?.cancel(), '') : await readShort(response);
    const latencyMs = clock() - started;
    const outcome = outcomeOf(response.status);
    if (outcome === 'delivered') return { outcome, status: response.status, latencyMs, error: null, retryAfterS: null };
    const detail =
      response.status >= 300 && response.status < 400
        ? 'a redirect, not followed: point the channel at the final URL'
        : redact(options.describe?.(response.status, text) ?? defaultDescribe(text), options.redact ?? []);
    return {
      outcome,
      status: response.status,
      latencyMs,
      error: `receiver answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
      retryAfterS: parseRetryAfter(response.headers.get('retry-after'), clock()),
    };
  } catch (e: unknown) {
    const latencyMs = clock() - started;
    const name = e instanceof Error ? e.name : 'Error';
    const error =
      name === 'TimeoutError' || name === 'AbortError'
        ? `no answer within ${options.timeoutMs / 1000} s`
        : `request failed (${name}: could not connect or the connection broke)`;
    return { outcome: 'retry', status: null, latencyMs, error, retryAfterS: null };
  }
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join('[redacted]') : t), text);
}

/** The first MAX_ERROR_READ_BYTES of the body, then the rest is cancelled, however long it would be. */
async function readShort(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off is as good as the part that came.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, MAX_ERROR_READ_BYTES));
}

function defaultDescribe(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_BODY ? `${flat.slice(0, MAX_ERROR_BODY)}…` : flat;
}
