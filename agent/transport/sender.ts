// Sends one signed heartbeat and says what the answer means for the caller: done, try again, or a
// configuration problem that retrying will not fix.
import { sign } from '../../protocol/signature.ts';

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
}

export type Sender = (webhookId: string, body: string) => Promise<SendOutcome>;

export function createSender(options: SenderOptions): Sender {
  const url = new URL(`v1/agents/${options.agentId}/${options.path ?? 'heartbeats'}`, options.workerUrl.endsWith('/') ? options.workerUrl : `${options.workerUrl}/`);
  return async (webhookId, body) => {
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'blindspot-agent',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': await sign([options.secret], webhookId, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (e: unknown) {
      const reason = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `cannot reach ${url.origin}: ${describe(e)}`;
      return { kind: 'retry', reason, retryAfterMs: null };
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) return { kind: 'accepted' };
    const { code, message } = parseError(text);
    // 409 means the Worker already has this heartbeat (a retry after a lost answer) or a newer one.
    if (response.status === 409) return { kind: 'duplicate', code };
    if (response.status === 429 || response.status >= 500) {
      return { kind: 'retry', reason: `HTTP ${response.status} ${code}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    }
    return { kind: 'rejected', status: response.status, code, message };
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

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string } }).cause;
    return cause?.code ?? e.message;
  }
  return String(e);
}
