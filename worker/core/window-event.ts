// Notification events about windows. The body is fixed when the event is created, so every retry
// sends the same bytes under the same webhook-id and receivers can deduplicate.
import { type BlindWindow, windowDurationS } from './blind-window.ts';

export type WindowEventType = 'window.opened' | 'window.closed';

export interface WindowEvent {
  id: string;
  type: WindowEventType;
  agentId: string;
  windowId: string;
  payload: string;
}

export function windowEvent(type: WindowEventType, window: BlindWindow, now: number): WindowEvent {
  const body = {
    type,
    timestamp: new Date(now).toISOString(),
    data: {
      window: {
        id: window.id,
        agent: window.agentId,
        monitor: window.monitor,
        cause: window.cause,
        started_at: new Date(window.startedAt).toISOString(),
        confirmed_at: new Date(window.confirmedAt).toISOString(),
        ended_at: window.endedAt === null ? null : new Date(window.endedAt).toISOString(),
        duration_s: windowDurationS(window, now),
      },
    },
  };
  return {
    id: `${window.id}:${type === 'window.opened' ? 'opened' : 'closed'}`,
    type,
    agentId: window.agentId,
    windowId: window.id,
    payload: JSON.stringify(body),
  };
}
