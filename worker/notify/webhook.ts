// Generic webhook, signed the Standard Webhooks way. webhook-id is the event id, the same on every
// retry and for every channel, so a receiver deduplicates on it; webhook-timestamp is the attempt
// time; the body is the event exactly as stored when the window changed.
import { sign } from '../../protocol/signature.ts';
import type { Channel, Notification, SendResult } from './channel.ts';
import { postJson } from './channel.ts';

export interface WebhookConfig {
  id: string;
  url: string;
  secret: string;
  timeoutMs: number;
  clock?: () => number;
}

export function webhookChannel(config: WebhookConfig): Channel {
  const clock = config.clock ?? Date.now;
  return {
    id: config.id,
    type: 'webhook',
    timeoutMs: config.timeoutMs,
    async send(n: Notification): Promise<SendResult> {
      const timestamp = Math.floor(clock() / 1000);
      const signature = await sign([config.secret], n.eventId, timestamp, n.payload);
      const headers = { 'webhook-id': n.eventId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
      return postJson(config.url, n.payload, { timeoutMs: config.timeoutMs, headers, redact: [config.url, config.secret] }, clock);
    },
  };
}
