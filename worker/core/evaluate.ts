// The engine: what a heartbeat, or the passing of time (alarm, sweep), does to an agent's live state.
// Pure: takes the previous state, the configuration and `now`; returns the next state and the changes
// the caller must record (D1 rows, notifications).
import type { MonitorDef, WatchConfig } from '../../config/resolve.ts';
import { signalKey } from '../../protocol/heartbeat.ts';
import { accountUntil } from './accounting.ts';
import {
  acceptAgentHeartbeat,
  type Change,
  CLOCK_SKEW_MONITOR,
  type HeartbeatFacts,
  LATE_MS,
  type LiveState,
  missDeadline,
  stallHoldMs,
  SETTLE_MS,
  STALL_MS,
  type Transition,
} from './agent-state.ts';
import {
  type InstanceChange,
  type MonitorInstance,
  newInstance,
  observe,
  retire,
  settle,
  dueAt,
  type StepContext,
} from './monitor-instance.ts';
import { clockSkewDef, defOf, IMPLICIT_PREFIX, selectMonitors } from './monitor-defs.ts';
import { flushSpreadMs, nextFlushAt, recordSignal } from './rollup.ts';
import { classifySignal, lowerIsWorse, type Observation, ruleFor } from './signal-level.ts';
import { observeHeartbeat, observeMissed, settleSilence, type SilenceSubject, silenceDueAt } from './silence.ts';
import { AUTO_RETIRE_MS, MAX_INSTANCES, StateLimitError } from './state-limits.ts';
import { pageNow, suppressionFor } from './suppression.ts';
import { clonePlain } from './clone.ts';
import { skewObservation } from './clock-skew.ts';
import {
  baselineOf,
  explainedBy,
  heldCounts,
  judges,
  missingSignal,
  namedBy,
  throughVia,
  withBaselines,
  withCountHold,
  withoutVia,
  withVia,
} from './signal-judging.ts';

export interface Subject extends SilenceSubject {
  id: string;
}

/** A window noticed late is looked at again this soon: if the watchdog is on time by then and it is still open, it pages. */
export const LATE_RECHECK_MS = 30_000;

export function evaluateHeartbeat(
  prev: LiveState | null,
  subject: Subject,
  facts: HeartbeatFacts,
  config: WatchConfig,
  now: number,
): Transition {
  // A heartbeat after a deadline no alarm or sweep evaluated (an alarm lost, the sweep not yet come):
  // the silence happened all the same, and is recorded (and paged) before the heartbeat ends it.
  // A heartbeat at its deadline is on time.
  // One sent in time (held up on its way, or behind a stalled watchdog) shows the agent was never silent.
  // One that comes while an evaluation held up waits for what was queued behind it (the agent's own
  // retries, heartbeats it spooled while the Worker did not answer) ends a silence that lay within the
  // watchdog's own stall: recorded as noticed late, told in the Watchdog's summary, not paged. Unless it
  // shows the agent itself was silent (sentLate): that silence pages, as it would with no stall.
  const caughtUp =
    prev !== null && now > prev.deadlineAt && missDeadline(prev, now) !== null && !sentInTime(prev, facts, now)
      ? evaluateTimers(prev, subject, config, now, {
          hold: false,
          late: waits(prev, now) === 'goes_on' && heldUp(prev) && !sentLate(prev, facts),
        })
      : null;
  const before = caughtUp?.next ?? prev;
  // A retired agent heard again: the time it was retired is nobody's (not accounted as paused or blind).
  const accounted =
    before === null
      ? null
      : before.retiredAt !== undefined
        ? { ...before, accountedAt: Math.max(before.accountedAt, now) }
        : accountUntil(before, config, now);
  const accepted = acceptAgentHeartbeat(accounted, subject.kind, subject.id, facts, now);
  const silence = observeHeartbeat(accepted.next, subject, config, now);
  const next = silence.next;
  const changes = [...(caughtUp?.changes ?? []), ...accepted.changes, ...silence.changes];
  if (subject.kind !== 'agent') return { next, changes };

  const restarted = changes.some((c) => c.type === 'restarted');
  const monitors: Record<string, MonitorInstance> = {};
  const step = (def: MonitorDef, obs: Observation, inst: MonitorInstance, via: string[] = inst.via ?? []) => {
    const ctx = contextFor(next, withVia(def, via), monitors, config, { stopping: facts.stopping, late: false, now });
    const result = observe(inst, obs, ctx, now);
    monitors[def.id] = via.length === 0 ? withoutVia(result.next) : { ...result.next, via };
    changes.push(...instanceChanges(result.changes));
  };

  const skewInst = next.monitors[CLOCK_SKEW_MONITOR] ?? newInstance(CLOCK_SKEW_MONITOR, now);
  const skew = skewObservation(prev, facts, config.clockSkewS, now);
  if (skew !== null) step(clockSkewDef(config), skew, skewInst);
  else monitors[CLOCK_SKEW_MONITOR] = skewInst;

  const selections = throughVia(selectMonitors(config, subject.id, facts.signals));
  const judgedBy = judges(selections);
  for (const { def, signals } of selections) {
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
    const observations = signals.map((s) => ({ s, o: classifySignal(s, ruleFor(def, s), baselineOf(prevInst, s)) }));
    const judged = heldCounts(prevInst, observations, now);
    if (judged === null) continue;
    const inst = withCountHold(withBaselines(prevInst ?? newInstance(def.id, now), signals, now), judged.hold);
    step(def, namedBy(def, judged.obs), inst, explainedBy(def, judged.observations, judgedBy));
  }

  // Instances not judged above: an implicit monitor whose signal is missing, or a monitor removed from the configuration.
  // An implicit one waits a while unjudged (its signal may come back), then is retired without paging.
  for (const [id, inst] of Object.entries(next.monitors)) {
    if (id in monitors) continue;
    const def = defOf(config, id);
    if (def === null || restarted || !id.startsWith(IMPLICIT_PREFIX) || now - inst.observedAt >= AUTO_RETIRE_MS)
      changes.push(...instanceChanges(retire(inst, now)));
    else monitors[id] = inst;
  }
  keepWithinLimit(monitors, now);

  const rollup = clonePlain(next.rollup);
  for (const s of facts.signals) recordSignal(rollup, signalKey(s), s.name, s.value, now);
  const evaluated: LiveState = { ...next, monitors, rollup };
  changes.push(...releaseSuppressed(evaluated, config, now));
  return { next: evaluated, changes };
}

/**
 * Past MAX_INSTANCES, quiet implicit instances whose signal is missing go first, least recently
 * observed first; if the agent still has too many, the heartbeat is refused. Mutates `monitors`.
 */
function keepWithinLimit(monitors: Record<string, MonitorInstance>, now: number): void {
  const ids = Object.keys(monitors);
  if (ids.length <= MAX_INSTANCES) return;
  const evictable = ids
    .filter((id) => id.startsWith(IMPLICIT_PREFIX) && monitors[id]!.observedAt < now && monitors[id]!.window === null)
    .sort((a, b) => monitors[a]!.observedAt - monitors[b]!.observedAt);
  for (const id of evictable.slice(0, ids.length - MAX_INSTANCES)) delete monitors[id];
  const left = Object.keys(monitors).length;
  if (left > MAX_INSTANCES)
    throw new StateLimitError(
      'max_instances',
      `this heartbeat would give the agent ${left} monitor instances; the limit is ${MAX_INSTANCES} per agent. Send fewer distinct signal names (put what varies, such as a pod, in labels) or select several with one configured monitor`,
    );
}

/**
 * Whether a heartbeat taken past the deadline of the one before, which no evaluation has yet found
 * missed, was sent in time all the same: the next of the same run, sent (by the agent's clock, counted
 * from the one before) by that deadline. It waited on its way or behind a stalled watchdog; the agent
 * was not silent. Judged by the time elapsed on the agent's clock, not its reading, so a clock that is
 * off by a constant does not matter; one stepped back could hide a silence, hence the next seq only
 * and not past LATE_MS (a silence noticed that late is recorded as the watchdog's gap regardless).
 */
function sentInTime(prev: LiveState, facts: HeartbeatFacts, now: number): boolean {
  const sent = sentOnWorkerClock(prev, facts);
  return now - prev.deadlineAt <= LATE_MS && sent !== null && sent <= prev.deadlineAt;
}

/**
 * Whether a heartbeat taken past the deadline shows that the agent itself sent nothing until after it:
 * the next of the same run (no heartbeat in between, so none timed out against a stalled Worker and
 * was spooled: the agent gives each one up, and spools it, before it makes the next), sent (by the
 * agent's clock, counted from the one before) after the deadline. The silence was the agent's, whether
 * or not the watchdog was stalled meanwhile.
 */
function sentLate(prev: LiveState, facts: HeartbeatFacts): boolean {
  const sent = sentOnWorkerClock(prev, facts);
  return sent !== null && sent > prev.deadlineAt;
}

/**
 * When the next heartbeat of the same run was sent, on the Worker's clock: the time elapsed between
 * the two `sent_at` (the agent's clock) added to when the one before was taken. Null for any other
 * heartbeat, or one whose clock went back.
 */
function sentOnWorkerClock(prev: LiveState, facts: HeartbeatFacts): number | null {
  if (facts.boot !== prev.boot || facts.seq !== prev.seq + 1) return null;
  const elapsed = facts.sentAt - prev.lastSentAt;
  return elapsed >= 0 ? prev.lastHeartbeatAt + elapsed : null;
}

/**
 * Whether this evaluation waits for heartbeats queued behind it: it is the first to find the deadline
 * passed (at most LATE_MS ago), or such a wait begun before is not over (an alarm run twice). It waits
 * SETTLE_MS when on time (a Worker frozen until just after the deadline takes the heartbeats it held
 * right after its alarm), stallHoldMs when it comes more than STALL_MS late (the watchdog was held
 * up: the agent's retries may be on their way). The wait shows as an evaluation at or after the
 * deadline that left the agent up.
 */
function waits(prev: LiveState, now: number): 'begins' | 'goes_on' | null {
  if (prev.state !== 'up' || now < prev.deadlineAt) return null;
  if (waitedForQueued(prev)) return now < waitEndsAt(prev) ? 'goes_on' : null;
  return now - prev.deadlineAt <= LATE_MS ? 'begins' : null;
}

/** A wait begun at the deadline or after it: lastCheckAt is when it began. */
const waitedForQueued = (live: LiveState) => live.state === 'up' && live.lastCheckAt !== null && live.lastCheckAt >= live.deadlineAt;

/** Whether the wait under way began more than STALL_MS after the deadline: the watchdog itself was held up. */
const heldUp = (live: LiveState) => (live.lastCheckAt as number) - live.deadlineAt > STALL_MS;

/** The wait for queued heartbeats under way, if any: `settle` after a look on time, `stall` after one held up. */
export function queuedWait(live: LiveState): 'settle' | 'stall' | null {
  if (!waitedForQueued(live)) return null;
  return heldUp(live) ? 'stall' : 'settle';
}

/** When a wait for queued heartbeats ends: SETTLE_MS after an evaluation on time, stallHoldMs after one held up. */
const waitEndsAt = (live: LiveState) => (live.lastCheckAt as number) + (heldUp(live) ? stallHoldMs(live.intervalS) : SETTLE_MS);

/**
 * The alarm's and the sweep's evaluation: a passed deadline, holds that complete on time alone,
 * rollups. The first to find a deadline passed waits before it judges (`hold`, see waits; not when a
 * heartbeat past its deadline catches up, which is itself what was queued). `late`: the watchdog counts as late
 * whatever the times say.
 */
export function evaluateTimers(
  prev: LiveState,
  subject: Subject,
  config: WatchConfig,
  now: number,
  opts: { hold: boolean; late?: boolean } = { hold: true },
): Transition {
  // A retired agent is watched no more: no deadline, no hold, no time accounted; its last rollups flush.
  if (prev.retiredAt !== undefined) return { next: { ...prev, lastCheckAt: now }, changes: [] };
  const wait = opts.hold ? waits(prev, now) : null;
  if (wait === 'begins') return { next: { ...prev, lastCheckAt: now }, changes: [] };
  if (wait === 'goes_on') return { next: prev, changes: [] };
  const due = nextDueAt(prev, subject, config, now);
  // The watchdog itself is late when what was due waited longer than LATE_MS: what it opens now is
  // recorded as noticed late, and pages at the next evaluation that is on time if it is still open.
  const late = opts.late === true || (due !== null && now - due > LATE_MS);
  // After a wait for queued heartbeats, the time since it began is the silence's, not the agent's up time.
  const noticedAt = waitedForQueued(prev) ? Math.min(now, prev.lastCheckAt as number) : now;
  let live: LiveState = { ...accountUntil(prev, config, noticedAt), lastCheckAt: now };
  const changes: Change[] = [];
  const missed = missDeadline(live, now);
  if (missed === null) live = accountUntil(live, config, now);
  else {
    const observed = observeMissed(
      missed.next,
      subject,
      config,
      // Late by when it was first noticed: an evaluation that waited for queued heartbeats noticed it then.
      {
        dueAt: missed.dueAt,
        deadlineAt: prev.deadlineAt,
        late: opts.late === true || noticedAt - prev.deadlineAt > LATE_MS,
      },
      now,
    );
    live = accountUntil(observed.next, config, now);
    changes.push(...observed.changes);
  }
  const silence = settleSilence(live, subject, config, late, now);
  live = silence.next;
  changes.push(...silence.changes);
  if (live.state !== 'up') return { next: live, changes };

  const monitors: Record<string, MonitorInstance> = {};
  for (const [id, inst] of Object.entries(live.monitors)) {
    const def = defOf(config, id);
    const copy = clonePlain(inst);
    if (def !== null) {
      const instDue = dueAt(inst, def);
      const ctx = contextFor(live, withVia(def, inst.via ?? []), monitors, config, {
        stopping: live.stopping,
        late: instDue !== null && now - instDue > LATE_MS,
        now,
      });
      changes.push(...instanceChanges(settle(copy, ctx, now)));
    }
    monitors[id] = copy;
  }
  const next = { ...live, monitors };
  if (!late) changes.push(...releaseSuppressed(next, config, now));
  return { next, changes };
}

/** When the alarm must run next: the deadline, a hold completing, a maintenance window ending, a late window's re-check, a rollup to write. */
export function nextDueAt(live: LiveState, subject: SilenceSubject, config: WatchConfig, now: number): number | null {
  const times: number[] = [];
  if (live.state === 'up') {
    times.push(waitedForQueued(live) ? waitEndsAt(live) : live.deadlineAt);
    for (const [id, inst] of Object.entries(live.monitors)) {
      const def = defOf(config, id);
      const due = def === null ? null : dueAt(inst, def);
      if (due !== null) times.push(due);
      if (inst.window !== null && !inst.window.paged && inst.window.suppressedBy === 'watchdog_gap')
        times.push((live.lastCheckAt ?? now) + LATE_RECHECK_MS);
    }
    for (const m of config.maintenance) if (m.endsAt > now && m.startsAt <= now) times.push(m.endsAt);
  }
  const silence = silenceDueAt(live, subject, config, LATE_RECHECK_MS, now);
  if (silence !== null) times.push(silence);
  const flush = nextFlushAt(live.rollup, live.lastFlushAt, flushSpreadMs(live.agentId));
  if (flush !== null) times.push(flush);
  return times.length === 0 ? null : Math.min(...times);
}

/** Windows recorded without paging whose reason has passed (maintenance over, dependency recovered, watchdog on time again) page now. */
function releaseSuppressed(live: LiveState, config: WatchConfig, now: number): Change[] {
  const changes: Change[] = [];
  for (const [id, inst] of Object.entries(live.monitors)) {
    const w = inst.window;
    if (w === null || w.paged) continue;
    const def = defOf(config, id);
    if (def === null) continue;
    const reason = contextFor(live, withVia(def, inst.via ?? []), live.monitors, config, {
      stopping: live.stopping,
      late: false,
      now,
    }).suppression();
    if (reason !== null) continue;
    inst.window = pageNow(w);
    changes.push({ type: 'window_paged', window: inst.window });
  }
  return changes;
}

function contextFor(
  live: LiveState,
  def: MonitorDef,
  instances: Record<string, MonitorInstance>,
  config: WatchConfig,
  f: { stopping: boolean; late: boolean; now: number },
): StepContext {
  return {
    agentId: live.agentId,
    def,
    lowerIsWorse: lowerIsWorse(def.kind),
    suppression: () =>
      suppressionFor({
        agentId: live.agentId,
        def,
        instances,
        maintenance: config.maintenance,
        stopping: f.stopping,
        late: f.late,
        now: f.now,
      }),
  };
}

function instanceChanges(changes: readonly InstanceChange[]): Change[] {
  return changes.map((c) => ({ type: `window_${c.type}` as const, window: c.window }));
}
