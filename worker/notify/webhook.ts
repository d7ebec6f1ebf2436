// Generic webhook, signed the Standard Webhooks way: webhook-id is the event id (stable across
// retries), webhook-timestamp is the attempt time.
import { sign } from '../../protocol/signature.ts';
import type { WindowEvent } from '../core/window-event.ts';
import type { Channel, SendResult } from './channel.ts';

export interface WebhookConfig {
  url: string;
  secret: string;
  timeoutMs?: number;
}

export function webhookChannel(config: WebhookConfig): Channel {
  return {
    name: 'webhook',
    async send(event: WindowEvent): Promise<SendResult> {
      const started = Date.now();
      const timestamp = Math.floor(started / 1000);
      try {
        const signature = await sign([config.secret], event.id, timestamp, event.payload);
        const response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'blindspot-worker',
            'webhook-id': event.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature,
          },
          body: event.payload,
          signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
        });
        await response.body?.cancel();
        const latencyMs = Date.now() - started;
        if (response.ok) return { ok: true, status: response.status, latencyMs };
        return { ok: false, status: response.status, error: `receiver answered HTTP ${response.status}`, retryAfterS: parseRetryAfter(response.headers.get('retry-after'), started), latencyMs };
      } catch (e: unknown) {
        // Never echo the URL: it may carry a token.
        const reason = e instanceof Error ? e.name : 'error';
        return { ok: false, status: null, error: `request failed (${reason})`, retryAfterS: null, latencyMs: Date.now() - started };
      }
    },
  };
}

function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value), 86_400);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.min(86_400, Math.ceil((at - now) / 1000))) : null;
}
