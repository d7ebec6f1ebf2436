// The dead-man's switch as a monitor like the others. A missed deadline is one "blind" observation
// (made when the missing heartbeat was due), a heartbeat one "up" observation; the window opens at
// the first miss and closes only after `silence.recover_for`, and a link that keeps missing by a
// second is one flapping window, not a page per miss. Pure.
import type { MonitorDef, WatchConfig } from '../../config/resolve.ts';
import { type Change, type LiveState, SILENCE_MONITOR, type SubjectKind } from './agent-state.ts';
import type { BlindWindow, WindowCause } from './blind-window.ts';
import {
  dueAt,
  type InstanceChange,
  type MonitorInstance,
  newInstance,
  observe,
  retire,
  settle,
  type StepContext,
} from './monitor-instance.ts';
import { activeMaintenance, covers, pageNow } from './suppression.ts';
import { clonePlain } from './clone.ts';

export interface SilenceSubject {
  kind: SubjectKind;
  /** Component of the silence monitor. */
  component: string;
}

/** A missed deadline already waited the grace: the first miss confirms the silence. */
const SILENCE_FOR = { heartbeats: 1, seconds: 0 };

export function silenceDef(config: WatchConfig, subject: SilenceSubject): MonitorDef {
  return {
    ...config.defaults,
    id: SILENCE_MONITOR[subject.kind],
    name: subject.kind === 'agent' ? 'Agent heartbeats' : 'Alertmanager Watchdog',
    agent: '*',
    signal: null,
    kind: null,
    blindMaxSet: false,
    dependsOn: [],
    implicit: true,
    severity: 'critical',
    component: subject.component,
    for: SILENCE_FOR,
    recoverFor: config.silence.recoverFor,
    flapping: config.silence.flapping,
  };
}

/**
 * Why the silence is recorded without paging now, or null to page: the watchdog noticed it late, the
 * agent said goodbye (believed for `max_stopped_s`, not for ever), or maintenance covers it.
 */
export function silenceSuppression(live: LiveState, config: WatchConfig, late: boolean, now: number): string | null {
  if (late) return 'watchdog_gap';
  if (live.stopping && now < stopExpiresAt(live, config)) return 'agent_stopped';
  const m = activeMaintenance(config.maintenance, live.agentId, SILENCE_MONITOR[live.kind], now);
  return m === null ? null : `maintenance:${m.id}`;
}

export const stopExpiresAt = (live: LiveState, config: WatchConfig) => live.lastHeartbeatAt + config.silence.maxStoppedS * 1000;

function contextFor(live: LiveState, def: MonitorDef, config: WatchConfig, late: boolean, now: number): StepContext {
  return { agentId: live.agentId, def, lowerIsWorse: false, suppression: () => silenceSuppression(live, config, late, now) };
}

const windowChanges = (changes: readonly InstanceChange[]): Change[] =>
  changes.map((c) => ({ type: `window_${c.type}` as const, window: c.window }));

/**
 * The deadline passed: `live` is already marked silent (or stopped). The observation is made when the
 * missing heartbeat was due and confirmed at the deadline, whenever the alarm actually ran.
 */
export function observeMissed(
  live: LiveState,
  subject: SilenceSubject,
  config: WatchConfig,
  miss: { dueAt: number; deadlineAt: number; late: boolean },
  now: number,
): { next: LiveState; changes: Change[] } {
  const def = silenceDef(config, subject);
  const cause: WindowCause = live.stopping ? 'agent_stopped' : live.kind === 'agent' ? 'agent_silent' : 'alert_path_silent';
  const inst = live.silence ?? newInstance(def.id, miss.dueAt);
  const obs = { level: 'blind' as const, cause, value: null, signal: null, error: 'no heartbeat by the deadline' };
  const result = observe(inst, obs, contextFor(live, def, config, miss.late, now), Math.max(miss.deadlineAt, miss.dueAt), miss.dueAt);
  // The last heartbeat heard: a backfill must continue it to show the agent ran on behind a dead link.
  const before = live.boot === '' ? null : { boot: live.boot, seq: live.seq };
  const anchored = (w: BlindWindow): BlindWindow => (w.anchors === undefined ? { ...w, anchors: { before, after: null } } : w);
  const next = result.next.window === null ? result.next : { ...result.next, window: anchored(result.next.window) };
  const changes = windowChanges(result.changes.map((c) => ({ ...c, window: anchored(c.window) })));
  // A window kept open from an earlier miss (the agent was back, but not for recover_for) and never
  // paged is judged again for this one: what kept it quiet then (a silence since expired) may be over.
  const w = next.window;
  if (w !== null && !w.paged && inst.window?.id === w.id && live.state !== 'up') {
    const why = silenceSuppression(live, config, miss.late, now);
    if (why === null) {
      next.window = pageNow(w);
      changes.push({ type: 'window_paged', window: next.window });
    } else if (why !== w.suppressedBy) {
      next.window = { ...w, suppressedBy: why };
      changes.push({ type: 'window_updated', window: next.window });
    }
  }
  return { next: { ...live, silence: next }, changes };
}

/** A heartbeat arrived: one good observation for the silence monitor (it closes after `recover_for`). */
export function observeHeartbeat(
  live: LiveState,
  subject: SilenceSubject,
  config: WatchConfig,
  now: number,
): { next: LiveState; changes: Change[] } {
  if (live.silence === null) return { next: live, changes: [] };
  // A stop on purpose (never paged) ends when the agent is back: its silence was intended and is over
  // at once. A silence after it is a new, unintended one, with its own window, cause and page.
  const w = live.silence.window;
  if (w !== null && w.cause === 'agent_stopped' && !w.paged)
    return { next: { ...live, silence: null }, changes: windowChanges(retire(live.silence, now)) };
  const def = silenceDef(config, subject);
  const obs = { level: 'up' as const, cause: 'agent_silent' as const, value: null, signal: null, error: null };
  // `live` has taken this heartbeat: the newest one heard since the silence began.
  const heard =
    w === null
      ? live.silence
      : { ...live.silence, window: { ...w, anchors: { before: w.anchors?.before ?? null, after: { boot: live.boot, seq: live.seq } } } };
  const result = observe(heard, obs, contextFor(live, def, config, false, now), now);
  return { next: { ...live, silence: retireQuiet(result.next) }, changes: windowChanges(result.changes) };
}

/** On time alone: a recovery or flapping hold completes, or a silence recorded quietly must page now. */
export function settleSilence(
  live: LiveState,
  subject: SilenceSubject,
  config: WatchConfig,
  late: boolean,
  now: number,
): { next: LiveState; changes: Change[] } {
  if (live.silence === null) return { next: live, changes: [] };
  const def = silenceDef(config, subject);
  const inst = clonePlain(live.silence);
  const changes = windowChanges(settle(inst, contextFor(live, def, config, late, now), now));
  const w = inst.window;
  // Paged only while the agent is still away: once it is back, the resolve follows instead.
  if (w !== null && !w.paged && live.state !== 'up') {
    const why = silenceSuppression(live, config, late, now);
    if (why === null) {
      inst.window = pageNow(w);
      changes.push({ type: 'window_paged', window: inst.window });
    } else if (why === 'watchdog_gap' && w.suppressedBy !== why && silenceSuppression(live, config, false, now) === null) {
      // What kept it quiet is over, but the watchdog finds that late: noticed late, looked at again on time.
      inst.window = { ...w, suppressedBy: why };
      changes.push({ type: 'window_updated', window: inst.window });
    }
  }
  return { next: { ...live, silence: retireQuiet(inst) }, changes };
}

/** When the silence monitor needs the alarm: a hold completing, a stop expiring, maintenance ending, a late window's re-check. */
export function silenceDueAt(live: LiveState, subject: SilenceSubject, config: WatchConfig, recheckMs: number, now: number): number | null {
  const inst = live.silence;
  if (inst === null) return null;
  const times: number[] = [];
  const hold = dueAt(inst, silenceDef(config, subject));
  if (hold !== null) times.push(hold);
  const w = inst.window;
  if (w !== null && !w.paged && live.state !== 'up') {
    if (w.suppressedBy === 'watchdog_gap') times.push((live.lastCheckAt ?? now) + recheckMs);
    else if (w.suppressedBy === 'agent_stopped') times.push(stopExpiresAt(live, config));
    // Whatever its label says, a silence or maintenance over it may be what keeps it quiet now: its end is a moment to page.
    for (const m of config.maintenance) if (m.endsAt > now && m.startsAt <= now) times.push(m.endsAt);
    const over = quietedByPause(live) ? pausesEndedAt(live, config, now) : null;
    if (over !== null) times.push(over);
  }
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * Whether an operator's pause (a silence or maintenance) is all that keeps the agent's silence
 * window from paging: the agent still away, the window unpaged. Its object then re-reads the pauses
 * at the sweep's visits, as a heartbeat would have: one lifted without the object being told must
 * not keep the page back until the pause's old end.
 */
export function quietedByPause(live: LiveState): boolean {
  const w = live.silence?.window;
  return live.state !== 'up' && w !== null && w !== undefined && !w.paged && w.suppressedBy?.startsWith('maintenance:') === true;
}

/**
 * When the pauses that kept a window quiet (quietedByPause) ended, if they have and nothing keeps it quiet now: a
 * moment to page that stays due once passed, so the sweep still finds it when the alarm set for it
 * was lost (or the object was away then). The latest end of those listed over this agent's silence
 * (one may have taken over from the one the window names); now if none is listed any more.
 */
function pausesEndedAt(live: LiveState, config: WatchConfig, now: number): number | null {
  if (silenceSuppression(live, config, false, now) !== null) return null;
  const ends = config.maintenance
    .filter((m) => m.endsAt <= now && covers(m, live.agentId, SILENCE_MONITOR[live.kind]))
    .map((m) => m.endsAt);
  return ends.length === 0 ? now : Math.max(...ends);
}

/** An instance with nothing open and nothing pending is forgotten: a healthy agent stores no silence row. */
function retireQuiet(inst: MonitorInstance): MonitorInstance | null {
  return inst.window === null && inst.pending === null && inst.recovering === null && !inst.flapping && inst.changes.length === 0
    ? null
    : inst;
}
