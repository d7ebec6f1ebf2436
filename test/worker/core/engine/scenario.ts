// Promtool-style scenarios for the engine: observations at given seconds, then expectations on the
// windows and states that came out. Time is simulated; nothing here sleeps.
import { loadConfigText } from '../../../../config/load.ts';
import type { WatchConfig } from '../../../../config/resolve.ts';
import type { Signal } from '../../../../protocol/heartbeat.ts';
import type { Change, LiveState } from '../../../../worker/core/agent-state.ts';
import { evaluateHeartbeat, evaluateTimers, nextDueAt } from '../../../../worker/core/evaluate.ts';
import { flushDue, flushSpreadMs, takeComplete } from '../../../../worker/core/rollup.ts';

export const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
export const at = (s: number) => T0 + s * 1000;

export function config(yaml: string): WatchConfig {
  const result = loadConfigText(yaml);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

export const sig = (name: string, kind: Signal['kind'], value: number | null, labels?: Record<string, string>): Signal => ({
  name,
  kind,
  value,
  error: value === null ? 'probe failed' : null,
  ...(labels ? { labels } : {}),
});

export type Timed = Change & { at: number };

/** Drives one agent through heartbeats and alarms, recording every change with the second it happened. */
export class Scenario {
  live: LiveState | null = null;
  readonly changes: Timed[] = [];
  private seq = 0;
  /** The time of the last evaluation, as the Durable Object would know it. */
  private now = T0;

  constructor(
    readonly cfg: WatchConfig,
    readonly agentId = 'a',
    readonly intervalS = 5,
  ) {}

  /** A heartbeat the agent made but could not send (it spools it): it takes the next seq and nothing else. */
  spooled(): { boot: string; seq: number } {
    return { boot: 'b1', seq: ++this.seq };
  }

  heartbeat(second: number, signals: Signal[], over: { boot?: string; sentAtOffsetS?: number; stopping?: boolean } = {}): this {
    const now = at(second);
    const facts = {
      boot: over.boot ?? 'b1',
      seq: ++this.seq,
      intervalS: this.intervalS,
      graceS: this.intervalS,
      sentAt: now + (over.sentAtOffsetS ?? 0) * 1000,
      stopping: over.stopping ?? false,
      signals,
    };
    const t = evaluateHeartbeat(this.live, { kind: 'agent', id: this.agentId, component: 'monitoring' }, facts, this.cfg, now);
    this.record(t.next, t.changes, second);
    return this;
  }

  /** Heartbeats every interval from `from` to `to` seconds (inclusive), signals chosen per second. */
  every(from: number, to: number, signals: (second: number, i: number) => Signal[]): this {
    for (let s = from, i = 0; s <= to; s += this.intervalS, i++) this.heartbeat(s, signals(s, i));
    return this;
  }

  alarm(second: number): this {
    if (this.live === null) throw new Error('no state yet');
    const t = evaluateTimers(this.live, { kind: 'agent', id: this.agentId, component: 'monitoring' }, this.cfg, at(second));
    this.record(t.next, t.changes, second);
    return this;
  }

  /** Runs the alarm at every moment the engine asks for, up to `second`. */
  alarmsUntil(second: number): this {
    for (let i = 0; i < 1000 && this.live !== null; i++) {
      const due = nextDueAt(this.live, { kind: 'agent', component: 'monitoring' }, this.cfg, this.now);
      if (due === null || due > at(second)) break;
      this.alarm((due - T0) / 1000);
    }
    return this;
  }

  windows(type: Change['type'], monitor?: string) {
    return this.changes.flatMap((c) =>
      c.type === type && 'window' in c && (monitor === undefined || c.window.monitor === monitor) ? [{ at: c.at, ...c.window }] : [],
    );
  }

  /** What would reach on-call: opened (or paged late), escalated and closed events of paged windows. */
  notifications() {
    return this.changes.filter((c) => 'window' in c && (c.type === 'window_paged' || c.window.paged) && c.type !== 'window_escalated');
  }

  monitor(id: string) {
    const m = this.live?.monitors[id];
    if (m === undefined) throw new Error(`no monitor ${id}; have ${Object.keys(this.live?.monitors ?? {}).join(', ')}`);
    return m;
  }

  private record(next: LiveState, changes: Change[], second: number) {
    // As the Durable Object does: complete rollup buckets are written out, so they stop being due.
    const now = at(second);
    this.live = flushDue(next.rollup, next.lastFlushAt, now, flushSpreadMs(next.agentId))
      ? { ...next, rollup: takeComplete(next.rollup, now).rest, lastFlushAt: now }
      : next;
    this.now = at(second);
    for (const c of changes) this.changes.push({ ...c, at: second } as Timed);
  }
}
