import type { WindowEvent } from '../core/window-event.ts';

export type SendResult =
  | { ok: true; status: number; latencyMs: number }
  | { ok: false; status: number | null; error: string; retryAfterS: number | null; latencyMs: number };

/** Every channel implements this; send() reports failure as a value and never throws. */
export interface Channel {
  name: string;
  send(event: WindowEvent): Promise<SendResult>;
}
