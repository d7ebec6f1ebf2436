// Who a Durable Object watches and what one arrival says, from the heartbeat or the Alertmanager
// Watchdog alert and the configuration. Pure.
import type { AlertSource, WatchConfig } from '../../config/resolve.ts';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import type { HeartbeatFacts, LiveState, SubjectKind } from './agent-state.ts';
import type { Subject } from './evaluate.ts';

export function heartbeatFacts(heartbeat: Heartbeat): HeartbeatFacts {
  return {
    boot: heartbeat.boot,
    seq: heartbeat.seq,
    intervalS: heartbeat.interval_s,
    graceS: heartbeat.grace_s,
    sentAt: Date.parse(heartbeat.sent_at),
    stopping: heartbeat.stopping === true,
    signals: heartbeat.signals,
  };
}

/** The Watchdog alert as a heartbeat of the whole alert path: one more in a single boot, on the Worker's clock. */
export function watchdogFacts(live: LiveState | null, source: AlertSource, now: number): HeartbeatFacts {
  return {
    boot: 'alertmanager',
    seq: (live?.seq ?? 0) + 1,
    intervalS: source.intervalS,
    graceS: source.graceS,
    sentAt: now,
    stopping: false,
    signals: [],
  };
}

/** The id under which an Alertmanager source's Durable Object and live state are kept. */
export const alertSourceSubject = (sourceId: string) => `alertmanager:${sourceId}`;

export function subjectOf(kind: SubjectKind, id: string, config: WatchConfig): Subject {
  const source = kind === 'alert_source' ? config.alertSources.find((s) => alertSourceSubject(s.id) === id) : undefined;
  return { kind, id, component: source?.component ?? config.defaults.component };
}

/** Whether the live state still holds this window open (a reminder is planned only for an open one). */
export function holdsWindow(live: LiveState | null, windowId: string): boolean {
  if (live === null) return false;
  return live.silence?.window?.id === windowId || Object.values(live.monitors).some((m) => m.window?.id === windowId);
}
