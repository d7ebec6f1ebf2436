// What a notification says, in words, for every channel: short enough to read at 3 a.m., with the
// facts a responder needs (what went blind, how badly, since when, for how long, what it holds back).
// Pure: the stored event body in, text out; `now` only measures how long an open window has lasted.
import type { RecordedCause } from '../core/blind-window.ts';
import type { WindowEventType } from '../core/window-event.ts';

export interface WindowView {
  id: string;
  agent: string;
  monitor: string;
  component: string;
  severity: 'critical' | 'warning' | 'info';
  cause: string;
  level: 'degraded' | 'unknown' | 'blind';
  signal: string | null;
  started_at: string;
  confirmed_at: string;
  ended_at: string | null;
  duration_s: number;
  peak_value: number | null;
  suppressed_by: string | null;
  thresholds?: Record<string, unknown> | null;
  suppresses?: string[];
}

export interface EventBody {
  type: WindowEventType;
  timestamp: string;
  data: {
    window?: WindowView;
    repeat?: number;
    gap?: { id: string; started_at: string; ended_at: string; duration_s: number } | null;
    windows?: WindowView[];
    text?: string;
  };
}

export interface Links {
  statusPage: string | null;
  gapReport: string | null;
}

/** Every cause in words; the compiler holds the list to blind-window.ts's. */
const CAUSES: Record<RecordedCause | 'test', string> = {
  agent_silent: 'the agent stopped sending heartbeats',
  agent_stopped: 'the agent was stopped on purpose',
  alert_path_silent: 'the Alertmanager Watchdog alert stopped arriving: alerts may not reach anyone',
  stale: 'telemetry is stale',
  sampling_low: 'the sampling ratio is below its floor',
  sampling_drop: 'the sampling ratio dropped far below its own recent level',
  dropped: 'alerts or notifications are being dropped',
  queue_backlog: 'the export queue is backing up',
  queue_full: 'a queue is filling up towards its capacity: items will be dropped',
  unknown: 'the signal cannot be measured',
  missing_signal: 'the signal is no longer reported',
  clock_skew: "the agent's clock is off",
  flapping: 'it keeps flipping between up and down',
  alert_rules_silent: 'alerting rules cannot fire: series they read no longer exist',
  rules_behind: 'rule groups take longer than their interval: alerts evaluate late or not at all',
  config_reload_failed: 'a configuration reload failed: the old configuration is still running',
  targets_missing: 'scrape jobs discover no targets: their data and alerts are gone',
  alerts_silenced: 'an Alertmanager silence mutes every critical alert, or one lies forgotten',
  watchdog_gap: 'the watchdog itself was not running: nothing was checked',
  test: 'this is a test notification from Blindspot; nothing is wrong',
};

export const causeText = (cause: string) => (CAUSES as Record<string, string>)[cause] ?? cause;

export function parseBody(payload: string): EventBody {
  return JSON.parse(payload) as EventBody;
}

export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** How long the window has lasted: to its end, or (still open) to `now`. */
export function lastedS(w: WindowView, now: number): number {
  const end = w.ended_at === null ? now : Date.parse(w.ended_at);
  return Math.max(w.duration_s, (end - Date.parse(w.started_at)) / 1000);
}

const LEVEL_WORD = { degraded: 'DEGRADED', unknown: 'UNKNOWN', blind: 'BLIND' } as const;
const word = (w: WindowView) => (w.cause === 'test' ? 'TEST' : LEVEL_WORD[w.level]);

/** One line: "BLIND: metrics-freshness on prom-1 — telemetry is stale (peak 930) for 12 min". */
export function headline(body: EventBody, now: number): string {
  if (body.type === 'watchdog.summary') return `Watchdog summary: ${body.data.text ?? 'the watchdog noticed windows late'}`;
  const w = body.data.window;
  if (w === undefined) return body.type;
  const where = w.monitor === 'agent' || w.monitor === 'alert_path' ? w.agent : `${w.monitor} on ${w.agent}`;
  const peak = w.peak_value === null ? '' : ` (peak ${formatValue(w.peak_value)})`;
  if (body.type === 'window.closed')
    return `RESOLVED: ${where} sees again after ${humanDuration(lastedS(w, now))} ${LEVEL_WORD[w.level].toLowerCase()}; ${causeText(w.cause)}${peak}`;
  const lead = body.type === 'window.repeat' ? `STILL ${word(w)}` : body.type === 'window.escalated' ? `ESCALATED TO ${word(w)}` : word(w);
  return `${lead}: ${where}: ${causeText(w.cause)}${peak}, for ${humanDuration(lastedS(w, now))}`;
}

/** What the window holds back, said plainly; empty when nothing. */
export function suppressionText(w: WindowView): string {
  const held = w.suppresses ?? [];
  if (w.monitor === 'agent') return 'While the agent is silent none of its monitors are judged; their time counts as unknown.';
  if (held.length === 0) return '';
  return `Held back while this is down (not paged separately): ${held.join(', ')}.`;
}

export function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 1 ? value.toPrecision(3) : value.toFixed(1);
}

export function linksFor(body: EventBody, publicUrl: string | null): Links {
  if (publicUrl === null) return { statusPage: null, gapReport: null };
  const w = body.data.window;
  const gap = body.data.gap;
  const from = w?.started_at ?? gap?.started_at ?? null;
  const to = w?.ended_at ?? gap?.ended_at ?? null;
  const range = from === null ? '' : `?from=${encodeURIComponent(from)}${to === null ? '' : `&to=${encodeURIComponent(to)}`}`;
  return { statusPage: `${publicUrl}/`, gapReport: `${publicUrl}/gaps${range}` };
}

/** Short key facts, for fields in cards and custom_details. */
export function facts(w: WindowView, now: number): [string, string][] {
  const rows: [string, string][] = [
    ['Agent', w.agent],
    ['Monitor', w.monitor],
    ['Component', w.component],
    ['Level', w.level],
    ['Cause', causeText(w.cause)],
    ['Since', w.started_at],
    ['Lasted', humanDuration(lastedS(w, now))],
  ];
  if (w.signal !== null) rows.push(['Signal', w.signal]);
  if (w.peak_value !== null) rows.push(['Peak value', formatValue(w.peak_value)]);
  if (w.ended_at !== null) rows.push(['Ended', w.ended_at]);
  return rows;
}

/** The moment an event speaks of (its timestamp): durations are measured to it, so every retry says the same. */
export function eventTime(body: EventBody): number {
  return Date.parse(body.timestamp);
}
