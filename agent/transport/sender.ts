// Sends one signed heartbeat and says what the answer means for the caller: done, try again, or a
// configuration problem that retrying will not fix.
import { sign } from '../../protocol/signature.ts';
import { type HttpAnswer, isTimeout, reasonOf, requestText } from './http-client.ts';
import { WorkerClock } from './worker-clock.ts';

export type SendOutcome =
  | { kind: 'accepted' }
  | { kind: 'duplicate'; code: string }
  | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  | { kind: 'rejected'; status: number; code: string; message: string };

export interface SenderOptions {
  workerUrl: string;
  agentId: string;
  secret: string;
  timeoutMs: number;
  /** heartbeats (default), or backfill for spooled batches. */
  path?: 'heartbeats' | 'backfill';
  /** Shared by the agent's senders and its heartbeats' sent_at: the Worker's time, learned from its answers. */
  clock?: WorkerClock;
}

export type Sender = (webhookId: string, body: string) => Promise<SendOutcome>;

export function createSender(options: SenderOptions): Sender {
  const url = new URL(
    `v1/agents/${options.agentId}/${options.path ?? 'heartbeats'}`,
    options.workerUrl.endsWith('/') ? options.workerUrl : `${options.workerUrl}/`,
  );
  const clock = options.clock ?? new WorkerClock();
  const attempt = async (webhookId: string, body: string): Promise<{ outcome: SendOutcome; clockChanged: boolean }> => {
    const timestamp = Math.floor(clock.now() / 1000);
    const sentAt = clock.localNow();
    let response: HttpAnswer;
    try {
      response = await requestText(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'blindspot-agent',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': await sign([options.secret], webhookId, timestamp, body),
        },
        body,
        timeoutMs: options.timeoutMs,
      });
    } catch (e: unknown) {
      const reason = isTimeout(e) ? `no answer within ${options.timeoutMs} ms` : `cannot reach ${url.origin}: ${reasonOf(e)}`;
      return { outcome: { kind: 'retry', reason, retryAfterMs: null }, clockChanged: false };
    }
    const clockChanged = clock.observe(response.headers.date ?? null, sentAt, clock.localNow());
    const text = response.text;
    if (response.status >= 200 && response.status < 300) return { outcome: { kind: 'accepted' }, clockChanged };
    const { code, message } = parseError(text);
    // 409 means the Worker already has this heartbeat (a retry after a lost answer) or a newer one.
    if (response.status === 409) return { outcome: { kind: 'duplicate', code }, clockChanged };
    if (response.status === 429 || response.status >= 500) {
      return {
        outcome: {
          kind: 'retry',
          reason: `HTTP ${response.status} ${code}`,
          retryAfterMs: retryAfterMs(response.headers['retry-after'] ?? null),
        },
        clockChanged,
      };
    }
    // Redirects are not followed (a signed POST is not re-sent elsewhere): say where to point worker_url.
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      const where = `worker_url redirects to ${location.slice(0, 200)}; configure that URL instead`;
      return { outcome: { kind: 'rejected', status: response.status, code: 'redirect', message: where }, clockChanged };
    }
    return { outcome: { kind: 'rejected', status: response.status, code, message }, clockChanged };
  };
  return async (webhookId, body) => {
    const first = await attempt(webhookId, body);
    // Refused for the agent's clock, and the answer just taught the Worker's: sign again at once.
    if (first.outcome.kind === 'rejected' && first.outcome.code === 'timestamp_out_of_range' && first.clockChanged)
      return (await attempt(webhookId, body)).outcome;
    return first.outcome;
  };
}

function parseError(text: string): { code: string; message: string } {
  try {
    const json = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return { code: json.error?.code ?? 'unknown', message: json.error?.message ?? text.slice(0, 200) };
  } catch {
    return { code: 'unknown', message: text.slice(0, 200) };
  }
}

function retryAfterMs(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Math.min(Number(value), 3600) * 1000;
}
