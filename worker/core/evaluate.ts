// The engine: what a heartbeat, or the passing of time (alarm, sweep), does to an agent's live state.
// Pure: takes the previous state, the configuration and `now`; returns the next state and the changes
// the caller must record (D1 rows, notifications).
import type { MonitorDef, WatchConfig } from '../../config/resolve.ts';
import { signalKey, type Signal } from '../../protocol/heartbeat.ts';
import { accountUntil } from './accounting.ts';
import {
  acceptAgentHeartbeat,
  type Change,
  CLOCK_SKEW_MONITOR,
  expireDeadline,
  type HeartbeatFacts,
  LATE_MS,
  SILENCE_MONITOR,
  type LiveState,
  type SubjectKind,
  type Transition,
} from './agent-state.ts';
import { type InstanceChange, type MonitorInstance, newInstance, observe, retire, settle, dueAt, type StepContext } from './monitor-instance.ts';
import { clockSkewDef, defOf, IMPLICIT_PREFIX, selectMonitors } from './monitor-defs.ts';
import { flushSpreadMs, nextFlushAt, recordSignal } from './rollup.ts';
import { classifySignal, lowerIsWorse, median, MIN_BASELINE_SAMPLES, type Observation, ruleFor, worstOf } from './signal-level.ts';
import { activeMaintenance, suppressionFor } from './suppression.ts';

export interface Subject {
  kind: SubjectKind;
  id: string;
  /** Component of the silence monitor. */
  component: string;
}

const BASELINE_SPACING_MS = 60_000;
const BASELINE_SPAN_MS = 60 * 60_000;

export function evaluateHeartbeat(prev: LiveState | null, subject: Subject, facts: HeartbeatFacts, config: WatchConfig, now: number): Transition {
  const accounted = prev === null ? null : accountUntil(prev, config, now);
  const { next, changes } = acceptAgentHeartbeat(accounted, subject.kind, subject.id, facts, now);
  if (subject.kind !== 'agent') return { next, changes };

  const restarted = changes.some((c) => c.type === 'restarted');
  const monitors: Record<string, MonitorInstance> = {};
  const step = (def: MonitorDef, obs: Observation, inst: MonitorInstance) => {
    const ctx = contextFor(next, def, monitors, config, { stopping: facts.stopping, late: false, now });
    const result = observe(inst, obs, ctx, now);
    monitors[def.id] = result.next;
    changes.push(...instanceChanges(result.changes));
  };

  const skewS = (facts.sentAt - now) / 1000;
  const skewLevel = Math.abs(skewS) > config.clockSkewS ? 'degraded' : 'up';
  step(clockSkewDef(config), { level: skewLevel, cause: 'clock_skew', value: Math.abs(skewS), signal: null, error: null }, next.monitors[CLOCK_SKEW_MONITOR] ?? newInstance(CLOCK_SKEW_MONITOR, now));

  for (const { def, signals } of selectMonitors(config, subject.id, facts.signals)) {
    const prevInst = next.monitors[def.id];
    if (signals.length === 0) {
      if (prevInst === undefined) continue;
      if (restarted) {
        changes.push(...instanceChanges(retire(prevInst, now)));
        continue;
      }
      step(def, missingSignal(), prevInst);
      continue;
    }
    const inst = withBaselines(prevInst ?? newInstance(def.id, now), signals, now);
    const obs = worstOf(signals.map((s) => classifySignal(s, ruleFor(def, s), baselineOf(prevInst, s))));
    if (obs !== null) step(def, obs, inst);
  }

  // Instances not judged above: an implicit monitor whose signal is missing, or a monitor removed from the configuration.
  for (const [id, inst] of Object.entries(next.monitors)) {
    if (id in monitors) continue;
    const def = defOf(config, id);
    if (def === null || restarted || !id.startsWith(IMPLICIT_PREFIX)) changes.push(...instanceChanges(retire(inst, now)));
    else step(def, missingSignal(), inst);
  }

  const rollup = structuredClone(next.rollup);
  for (const s of facts.signals) recordSignal(rollup, signalKey(s), s.name, s.value, now);
  const evaluated: LiveState = { ...next, monitors, rollup };
  changes.push(...releaseSuppressed(evaluated, config, now));
  return { next: evaluated, changes };
}

/** The alarm's and the sweep's evaluation: a passed deadline, holds that complete on time alone, rollups. */
export function evaluateTimers(prev: LiveState, subject: Subject, config: WatchConfig, now: number): Transition {
  const live = { ...accountUntil(prev, config, now), lastCheckAt: now };
  const late = now - prev.deadlineAt > LATE_MS;
  const expired = expireDeadline(live, { component: subject.component, late, maintenance: silencePause(live, config, now) }, now);
  if (expired !== null) return expired;
  if (live.state === 'blind') return releaseSilence(live, config, now);
  if (live.state !== 'up') return { next: live, changes: [] };

  const changes: Change[] = [];
  const monitors: Record<string, MonitorInstance> = {};
  for (const [id, inst] of Object.entries(live.monitors)) {
    const def = defOf(config, id);
    const copy = structuredClone(inst);
    if (def !== null) {
      const due = dueAt(inst, def);
      const ctx = contextFor(live, def, monitors, config, { stopping: live.stopping, late: due !== null && now - due > LATE_MS, now });
      changes.push(...instanceChanges(settle(copy, ctx, now)));
    }
    monitors[id] = copy;
  }
  const next = { ...live, monitors };
  changes.push(...releaseSuppressed(next, config, now));
  return { next, changes };
}

/** When the alarm must run next: the deadline, a hold completing, a maintenance window ending, a rollup to write. */
export function nextDueAt(live: LiveState, config: WatchConfig, now: number): number | null {
  const times: number[] = [];
  if (live.state === 'up') {
    times.push(live.deadlineAt);
    for (const [id, inst] of Object.entries(live.monitors)) {
      const def = defOf(config, id);
      const due = def === null ? null : dueAt(inst, def);
      if (due !== null) times.push(due);
    }
    for (const m of config.maintenance) if (m.endsAt > now && m.startsAt <= now) times.push(m.endsAt);
  }
  // A silence kept quiet by maintenance pages when the maintenance ends.
  if (live.state === 'blind' && live.openWindow !== null && !live.openWindow.paged && live.openWindow.suppressedBy?.startsWith('maintenance:'))
    for (const m of config.maintenance) if (m.endsAt > now && m.startsAt <= now) times.push(m.endsAt);
  const flush = nextFlushAt(live.rollup, live.lastFlushAt, flushSpreadMs(live.agentId));
  if (flush !== null) times.push(flush);
  return times.length === 0 ? null : Math.min(...times);
}

/** The maintenance (or silence) that covers this agent's own silence now, as a suppression reason. */
function silencePause(live: LiveState, config: WatchConfig, now: number): string | null {
  const m = activeMaintenance(config.maintenance, live.agentId, SILENCE_MONITOR[live.kind], now);
  return m === null ? null : `maintenance:${m.id}`;
}

/** A silence recorded without paging because of maintenance pages once the maintenance is over. */
function releaseSilence(live: LiveState, config: WatchConfig, now: number): Transition {
  const w = live.openWindow;
  if (w === null || w.paged || !w.suppressedBy?.startsWith('maintenance:') || silencePause(live, config, now) !== null) return { next: live, changes: [] };
  const window = { ...w, suppressedBy: null, paged: true };
  return { next: { ...live, openWindow: window }, changes: [{ type: 'window_paged', window }] };
}

/** Windows recorded without paging whose reason has passed (maintenance over, dependency recovered) page now. */
function releaseSuppressed(live: LiveState, config: WatchConfig, now: number): Change[] {
  const changes: Change[] = [];
  for (const [id, inst] of Object.entries(live.monitors)) {
    const w = inst.window;
    // Late windows are told in the sweep's one summary, never one by one.
    if (w === null || w.paged || w.suppressedBy === 'watchdog_gap') continue;
    const def = defOf(config, id);
    if (def === null) continue;
    const reason = contextFor(live, def, live.monitors, config, { stopping: live.stopping, late: false, now }).suppression();
    if (reason !== null) continue;
    inst.window = { ...w, suppressedBy: null, paged: true };
    changes.push({ type: 'window_paged', window: inst.window });
  }
  return changes;
}

function contextFor(live: LiveState, def: MonitorDef, instances: Record<string, MonitorInstance>, config: WatchConfig, f: { stopping: boolean; late: boolean; now: number }): StepContext {
  return {
    agentId: live.agentId,
    def,
    lowerIsWorse: lowerIsWorse(def.kind),
    suppression: () => suppressionFor({ agentId: live.agentId, def, instances, maintenance: config.maintenance, stopping: f.stopping, late: f.late, now: f.now }),
  };
}

function instanceChanges(changes: readonly InstanceChange[]): Change[] {
  return changes.map((c) => ({ type: `window_${c.type}` as const, window: c.window }));
}

function missingSignal(): Observation {
  return { level: 'unknown', cause: 'missing_signal', value: null, signal: null, error: 'no signal in the heartbeat matches this monitor' };
}

function baselineOf(inst: MonitorInstance | undefined, signal: Signal): number | null {
  if (signal.kind !== 'sampling' || inst === undefined) return null;
  const samples = inst.baselines[signalKey(signal)] ?? [];
  return samples.length < MIN_BASELINE_SAMPLES ? null : median(samples.map((x) => x.v));
}

/** Keeps at most one sampling ratio per minute per signal over the last hour. */
function withBaselines(inst: MonitorInstance, signals: readonly Signal[], now: number): MonitorInstance {
  const sampling = signals.filter((s) => s.kind === 'sampling' && s.value !== null);
  if (sampling.length === 0) return inst;
  const baselines = { ...inst.baselines };
  for (const s of sampling) {
    const key = signalKey(s);
    const kept = (baselines[key] ?? []).filter((x) => now - x.at < BASELINE_SPAN_MS);
    const last = kept[kept.length - 1];
    baselines[key] = last !== undefined && now - last.at < BASELINE_SPACING_MS ? kept : [...kept, { at: now, v: s.value as number }];
  }
  return { ...inst, baselines };
}
