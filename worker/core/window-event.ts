// Notification events. The body is fixed when the event is created, so every retry sends the same
// bytes under the same webhook-id and receivers can deduplicate.
import { type BlindWindow, windowDurationS } from './blind-window.ts';
import type { Gap } from './watchdog-ticks.ts';

export type WindowEventType = 'window.opened' | 'window.escalated' | 'window.repeat' | 'window.closed' | 'watchdog.summary';

export interface WindowEvent {
  id: string;
  type: WindowEventType;
  agentId: string;
  windowId: string;
  payload: string;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** What the configuration adds to a window's story: the thresholds it broke and the monitors it holds back. */
export interface WindowContext {
  thresholds: Record<string, unknown> | null;
  suppresses: string[];
}

export function windowJson(window: BlindWindow, now: number, context?: WindowContext) {
  return {
    id: window.id,
    agent: window.agentId,
    monitor: window.monitor,
    component: window.component,
    severity: window.severity,
    cause: window.cause,
    level: window.level,
    signal: window.signal,
    started_at: iso(window.startedAt),
    confirmed_at: iso(window.confirmedAt),
    ended_at: iso(window.endedAt),
    duration_s: windowDurationS(window, now),
    peak_value: window.peakValue,
    suppressed_by: window.suppressedBy,
    ...(context === undefined ? {} : { thresholds: context.thresholds, suppresses: context.suppresses }),
  };
}

export function windowEvent(
  type: Exclude<WindowEventType, 'watchdog.summary' | 'window.repeat'>,
  window: BlindWindow,
  now: number,
  context?: WindowContext,
): WindowEvent {
  const body = { type, timestamp: iso(now), data: { window: windowJson(window, now, context) } };
  // An escalation id carries its level, so degraded→blind is one event however often it is retried.
  const suffix = type === 'window.opened' ? 'opened' : type === 'window.closed' ? 'closed' : `escalated:${window.level}`;
  return { id: `${window.id}:${suffix}`, type, agentId: window.agentId, windowId: window.id, payload: JSON.stringify(body) };
}

/** What a sweep hands the Watchdog to tell: its own gap, if it found one, and the windows noticed late. */
export interface LateSummary {
  gap: Gap | null;
  windows: BlindWindow[];
}

/** A summary's event id: its gap's, or (no gap) its first window's, so a summary queued twice is sent once. */
export function summaryId(gap: Gap | null, windows: readonly BlindWindow[], now: number): string {
  return gap?.id ?? `watchdog:late:${windows[0]?.id ?? now}`;
}

/** One event for everything the watchdog noticed late, instead of a page per window. */
export function summaryEvent(summaryId: string, gap: Gap | null, windows: readonly BlindWindow[], now: number): WindowEvent {
  const body = {
    type: 'watchdog.summary',
    timestamp: iso(now),
    data: {
      gap:
        gap === null
          ? null
          : { id: gap.id, started_at: iso(gap.startedAt), ended_at: iso(gap.endedAt), duration_s: (gap.endedAt - gap.startedAt) / 1000 },
      windows: windows.map((w) => windowJson(w, now)),
      text: summaryText(gap, windows),
    },
  };
  return { id: summaryId, type: 'watchdog.summary', agentId: '*', windowId: gap?.id ?? summaryId, payload: JSON.stringify(body) };
}

function summaryText(gap: Gap | null, windows: readonly BlindWindow[]): string {
  const head =
    gap === null
      ? 'The watchdog noticed these late'
      : `The watchdog itself was not running for ${Math.round((gap.endedAt - gap.startedAt) / 1000)} s`;
  if (windows.length === 0) return `${head}; nothing went blind meanwhile.`;
  const agents = new Set(windows.map((w) => w.agentId)).size;
  return `${head}; ${windows.length} window(s) on ${agents} agent(s) opened meanwhile: ${windows
    .slice(0, 10)
    .map((w) => `${w.agentId}/${w.monitor} (${w.cause})`)
    .join(', ')}${windows.length > 10 ? ', …' : ''}.`;
}
