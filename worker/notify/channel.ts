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

/** POSTs JSON and classifies the answer. The URL is never put in an error: it may carry a token. */
export async function postJson(url: string, body: string, options: PostOptions, clock: () => number = Date.now): Promise<SendResult> {
  const started = clock();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'blindspot-worker', ...options.headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = response.ok ? (await response.body?.cancel(), '') : await readShort(response);
    const latencyMs = clock() - started;
    const outcome = outcomeOf(response.status);
    if (outcome === 'delivered') return { outcome, status: response.status, latencyMs, error: null, retryAfterS: null };
    const detail = redact(options.describe?.(response.status, text) ?? defaultDescribe(text), options.redact ?? []);
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

async function readShort(response: Response): Promise<string> {
  try {
    return (await response.text()).slice(0, 4096);
  } catch {
    return '';
  }
}

function defaultDescribe(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ERROR_BODY ? `${flat.slice(0, MAX_ERROR_BODY)}…` : flat;
}
