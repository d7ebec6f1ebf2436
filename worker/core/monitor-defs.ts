// Which monitors judge which signals: configured monitors select by agent, name glob and kind; a
// signal no configured monitor selects gets an implicit one with its kind's defaults.
import type { MonitorDef, WatchConfig } from '../../config/resolve.ts';
import { signalKey, type Signal, type SignalKind } from '../../protocol/heartbeat.ts';
import { CLOCK_SKEW_MONITOR } from './agent-state.ts';
import type { BlindWindow, WindowCause } from './blind-window.ts';
import type { WindowContext } from './window-event.ts';
import { matchesGlob } from './glob.ts';

export const IMPLICIT_PREFIX = 'auto:';

export function selects(def: MonitorDef, agentId: string, signal: Pick<Signal, 'name' | 'kind'>): boolean {
  return (
    matchesGlob(def.agent, agentId) &&
    (def.signal === null || matchesGlob(def.signal, signal.name)) &&
    (def.kind === null || def.kind === signal.kind)
  );
}

export function implicitDef(config: WatchConfig, signalName: string): MonitorDef {
  return {
    ...config.defaults,
    id: `${IMPLICIT_PREFIX}${signalName}`,
    name: signalName,
    agent: '*',
    signal: signalName,
    kind: null,
    blindMaxSet: false,
    dependsOn: [],
    implicit: true,
  };
}

/**
 * How long a clock must read off before it is called skewed. Heartbeats that waited on their way say
 * nothing of a clock behind (core/clock-skew.ts); those that slip past that rule (held, released a
 * little apart) still arrive within seconds, and the next one on time ends their run. A clock that is
 * really off stays off.
 */
export const CLOCK_SKEW_HOLD_S = 10;

export function clockSkewDef(config: WatchConfig): MonitorDef {
  return {
    ...config.defaults,
    for: { ...config.defaults.for, seconds: Math.max(config.defaults.for.seconds, CLOCK_SKEW_HOLD_S) },
    id: CLOCK_SKEW_MONITOR,
    name: 'Agent clock skew',
    agent: '*',
    signal: null,
    kind: null,
    blindMaxSet: false,
    dependsOn: [],
    implicit: true,
    severity: 'warning',
  };
}

export interface Selection {
  def: MonitorDef;
  signals: Signal[];
}

/** Configured monitors that apply to this agent (in dependency order), then implicit ones. */
export function selectMonitors(config: WatchConfig, agentId: string, signals: readonly Signal[]): Selection[] {
  const taken = new Set<string>();
  const out: Selection[] = [];
  for (const def of config.monitors) {
    if (!matchesGlob(def.agent, agentId)) continue;
    const matched = signals.filter((s) => selects(def, agentId, s));
    for (const s of matched) taken.add(signalKey(s));
    out.push({ def, signals: matched });
  }
  const implicit = new Map<string, Signal[]>();
  for (const s of signals) if (!taken.has(signalKey(s))) implicit.set(s.name, [...(implicit.get(s.name) ?? []), s]);
  for (const [name, matched] of implicit) out.push({ def: implicitDef(config, name), signals: matched });
  return out;
}

/** The definition behind a stored instance, or null when its monitor no longer exists. */
export function defOf(config: WatchConfig, monitorId: string): MonitorDef | null {
  if (monitorId === CLOCK_SKEW_MONITOR) return clockSkewDef(config);
  if (monitorId.startsWith(IMPLICIT_PREFIX)) return implicitDef(config, monitorId.slice(IMPLICIT_PREFIX.length));
  return config.monitors.find((m) => m.id === monitorId) ?? null;
}

const CAUSE_KIND: Partial<Record<WindowCause, SignalKind>> = {
  stale: 'freshness',
  sampling_low: 'sampling',
  sampling_drop: 'sampling',
  dropped: 'dropped',
  queue_backlog: 'queue_age',
  queue_full: 'saturation',
};

/** The thresholds a window broke (by its cause's kind) and the monitors that depend on it: told in its notifications. */
export function windowContext(config: WatchConfig, w: Pick<BlindWindow, 'monitor' | 'cause'>): WindowContext {
  const def = defOf(config, w.monitor);
  const kind = def?.kind ?? CAUSE_KIND[w.cause] ?? null;
  const rule = def !== null && kind !== null ? def.rules[kind] : null;
  return {
    thresholds: rule === null ? null : { kind, degraded: rule.degraded, blind: rule.blind },
    suppresses: config.monitors.filter((m) => m.dependsOn.includes(w.monitor)).map((m) => m.id),
  };
}
