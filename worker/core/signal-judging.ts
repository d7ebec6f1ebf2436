// How a heartbeat's signals are judged for each monitor (the engine's helpers, core/evaluate.ts):
// which monitor judges which signal, what a signal is read through (`via`) and so what explains a
// breach, a count of dropped items that still speaks for the heartbeats after it, and the sampling
// baselines a drop is measured against. Pure.
import type { MonitorDef } from '../../config/resolve.ts';
import { signalKey, type Signal } from '../../protocol/heartbeat.ts';
import { isBad, isWorse } from './blind-window.ts';
import type { Selection } from './monitor-defs.ts';
import type { MonitorInstance } from './monitor-instance.ts';
import { COUNT_HOLD_MS, holdsCount, median, MIN_BASELINE_SAMPLES, type Observation, worstOf } from './signal-level.ts';
import { MAX_BASELINE_SERIES } from './state-limits.ts';

const BASELINE_SPACING_MS = 60_000;
const BASELINE_SPAN_MS = 60 * 60_000;

/**
 * Each monitor with the monitors its signals are read through (a signal's `via` names the signal; the
 * monitor that judges that signal is the one). Those come first, so this heartbeat's verdict on
 * Prometheus itself is known before what was read through it is judged.
 */
export function throughVia(selections: readonly Selection[]): Selection[] {
  const judgedBy = judges(selections);
  const explaining = new Set<string>();
  for (const { signals } of selections)
    for (const s of signals) {
      const id = s.via === undefined ? undefined : judgedBy.get(s.via);
      if (id !== undefined) explaining.add(id);
    }
  return [...selections.filter((s) => explaining.has(s.def.id)), ...selections.filter((s) => !explaining.has(s.def.id))];
}

/** Signal name → the monitor that judges it (the first that selects it). */
export function judges(selections: readonly Selection[]): Map<string, string> {
  const judgedBy = new Map<string, string>();
  for (const { def, signals } of selections) for (const s of signals) if (!judgedBy.has(s.name)) judgedBy.set(s.name, def.id);
  return judgedBy;
}

/**
 * The monitors that explain this one's trouble: those judging what each of its bad signals is read
 * through. If any bad signal is read through nothing, nothing explains it: the trouble is its own.
 */
export function explainedBy(
  def: MonitorDef,
  observations: readonly { s: Signal; o: Observation }[],
  judgedBy: Map<string, string>,
): string[] {
  const via = new Set<string>();
  for (const { s, o } of observations) {
    if (o.level === 'up') continue;
    const id = s.via === undefined ? undefined : judgedBy.get(s.via);
    if (id === undefined || id === def.id) return [];
    via.add(id);
  }
  return [...via];
}

/** A monitor's own dependencies and those its signals bring (`via`), as one list. */
export function withVia(def: MonitorDef, via: readonly string[]): MonitorDef {
  const extra = via.filter((id) => !def.dependsOn.includes(id));
  return extra.length === 0 ? def : { ...def, dependsOn: [...def.dependsOn, ...extra] };
}

export function withoutVia(inst: MonitorInstance): MonitorInstance {
  if (inst.via === undefined) return inst;
  const { via: _, ...rest } = inst;
  return rest;
}

/** A breach is called what its monitor says it means, if it says (a measurement that failed stays `unknown`). */
export function namedBy(def: MonitorDef, obs: Observation): Observation {
  return def.cause !== null && (obs.level === 'blind' || obs.level === 'degraded') ? { ...obs, cause: def.cause } : obs;
}

export function missingSignal(): Observation {
  return { level: 'unknown', cause: 'missing_signal', value: null, signal: null, error: 'no signal in the heartbeat matches this monitor' };
}

type Judged = { s: Signal; o: Observation };

/**
 * The monitor's worst observation, with a recent count of dropped items still speaking for this
 * heartbeat (COUNT_HOLD_MS): the hold is set by a bad count, from what it covers (the previous
 * observation on), and lasts while the heartbeats after it see fewer losses.
 */
export function heldCounts(
  prev: MonitorInstance | undefined,
  observations: readonly Judged[],
  now: number,
): { obs: Observation; observations: readonly Judged[]; hold: MonitorInstance['countHold'] } | null {
  const worst = worstOf(observations.map((x) => x.o));
  if (worst === null) return null;
  const source = observations.find((x) => x.o === worst && holdsCount(x.s));
  const fresh =
    source !== undefined && isBad(worst.level) && worst.level !== 'unknown'
      ? { obs: worst, until: (prev?.observedAt ?? now) + COUNT_HOLD_MS, ...(source.s.via === undefined ? {} : { via: source.s.via }) }
      : undefined;
  const held = prev?.countHold !== undefined && prev.countHold.until > now ? prev.countHold : undefined;
  // A hold speaks only against a measurement that saw fewer losses: never against an unknown one
  // (which its own cause, such as Prometheus down, explains).
  if (fresh !== undefined || held === undefined || worst.level === 'unknown' || !isWorse(held.obs.level, worst.level))
    return { obs: worst, observations, hold: fresh ?? (worst.level === 'unknown' ? undefined : held) };
  const heldSignal: Signal = { name: '', kind: 'dropped', value: held.obs.value, ...(held.via === undefined ? {} : { via: held.via }) };
  const heldObs: Observation = { ...held.obs, held: true };
  return { obs: heldObs, observations: [...observations, { s: heldSignal, o: heldObs }], hold: held };
}

export function withCountHold(inst: MonitorInstance, hold: MonitorInstance['countHold']): MonitorInstance {
  if (hold !== undefined) return { ...inst, countHold: hold };
  if (inst.countHold === undefined) return inst;
  const { countHold: _, ...rest } = inst;
  return rest;
}

export function baselineOf(inst: MonitorInstance | undefined, signal: Signal): number | null {
  if (signal.kind !== 'sampling' || inst === undefined) return null;
  const samples = inst.baselines[signalKey(signal)] ?? [];
  return samples.length < MIN_BASELINE_SAMPLES ? null : median(samples.map((x) => x.v));
}

/** Keeps at most one sampling ratio per minute per series over the last hour; series gone quiet are dropped. */
export function withBaselines(inst: MonitorInstance, signals: readonly Signal[], now: number): MonitorInstance {
  const sampling = signals.filter((s) => s.kind === 'sampling' && s.value !== null);
  if (sampling.length === 0 && Object.keys(inst.baselines).length === 0) return inst;
  const baselines: MonitorInstance['baselines'] = {};
  for (const [key, samples] of Object.entries(inst.baselines)) {
    const kept = samples.filter((x) => now - x.at < BASELINE_SPAN_MS);
    if (kept.length > 0) baselines[key] = kept;
  }
  for (const s of sampling) {
    const key = signalKey(s);
    const kept = baselines[key] ?? [];
    const last = kept[kept.length - 1];
    baselines[key] = last !== undefined && now - last.at < BASELINE_SPACING_MS ? kept : [...kept, { at: now, v: s.value as number }];
  }
  const keys = Object.keys(baselines);
  if (keys.length > MAX_BASELINE_SERIES) {
    const newest = (k: string) => baselines[k]!.at(-1)!.at;
    for (const k of keys.sort((a, b) => newest(a) - newest(b)).slice(0, keys.length - MAX_BASELINE_SERIES)) delete baselines[k];
  }
  return { ...inst, baselines };
}
