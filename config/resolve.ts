// Turns a validated configuration file into what the engine uses: every default filled in, times as
// unix ms, monitors in dependency order. Cross-references are checked here (unknown component,
// unknown or circular depends_on), with messages that name the field and the fix.
import type { SignalKind } from '../protocol/heartbeat.ts';
import type { MonitorCause } from '../worker/core/blind-window.ts';
import type { ChannelType, ConfigFile, MonitorInput, Severity, ThresholdInput } from './schema.ts';

export interface Threshold {
  maxAgeS?: number;
  minRatio?: number;
  dropBelow?: number;
  max?: number;
  maxRatio?: number;
}
export interface KindRule {
  degraded: Threshold;
  blind: Threshold;
}
export interface Hold {
  heartbeats: number;
  seconds: number;
}
export interface Flapping {
  transitions: number;
  withinS: number;
  stableS: number;
}
export interface MonitorDef {
  id: string;
  name: string;
  component: string;
  agent: string;
  signal: string | null;
  kind: SignalKind | null;
  rules: Record<SignalKind, KindRule>;
  /** Whether the monitor set blind.max itself (otherwise dropped alerts get the strict default). */
  blindMaxSet: boolean;
  for: Hold;
  recoverFor: Hold;
  flapping: Flapping;
  severity: Severity;
  dependsOn: string[];
  /** What its breaches are called, instead of the kind's cause (see MONITOR_CAUSES). */
  cause: MonitorCause | null;
  /** Made up for a signal no configured monitor selects. */
  implicit: boolean;
}
export interface Component {
  id: string;
  name: string;
  group: string | null;
  description: string | null;
  /** A paged window on it opens a public incident automatically. */
  autoIncident: boolean;
}
export interface AlertSource {
  id: string;
  intervalS: number;
  graceS: number;
  alertname: string;
  component: string;
  /** The oldest a Watchdog alert's `blindspot_evaluated_at` may be and still count (s). */
  maxAgeS: number;
}
export interface Maintenance {
  id: string;
  startsAt: number;
  endsAt: number;
  agents: string[];
  monitors: string[];
  reason: string | null;
}
export interface ChannelDef {
  id: string;
  type: ChannelType;
  region: 'us' | 'eu';
  endpoint: string | null;
  timeoutMs: number;
}
export interface Route {
  channels: string[];
  monitors: string[];
  components: string[] | null;
  agents: string[];
  severities: Severity[] | null;
  repeatIntervalS: number;
}
export interface Notifications {
  publicUrl: string | null;
  /** Reminder interval of routes that set none (and of the implicit route); 0 = no reminders. */
  repeatIntervalS: number;
  giveUpAfterS: number;
  channels: ChannelDef[];
  routes: Route[];
}
export interface SilenceSettings {
  recoverFor: Hold;
  flapping: Flapping;
  /** How long a goodbye (`stopping: true`) keeps the silence after it quiet; then it pages. */
  maxStoppedS: number;
  /** The longest interval_s and grace_s a heartbeat may declare (a longer one is refused with a 422). */
  maxIntervalS: number;
  maxGraceS: number;
}

export interface WatchConfig {
  components: Component[];
  monitors: MonitorDef[];
  /** Settings for monitors made up for unselected signals. */
  defaults: Omit<MonitorDef, 'id' | 'name' | 'agent' | 'signal' | 'kind' | 'blindMaxSet' | 'dependsOn' | 'implicit'>;
  clockSkewS: number;
  /** The silence monitor (heartbeats missing) of every agent and Alertmanager source. */
  silence: SilenceSettings;
  alertSources: AlertSource[];
  maintenance: Maintenance[];
  notifications: Notifications;
  gapReport: { public: boolean; objective: number };
}

export const KIND_DEFAULTS: Record<SignalKind, KindRule> = {
  freshness: { degraded: { maxAgeS: 120 }, blind: { maxAgeS: 600 } },
  queue_age: { degraded: { maxAgeS: 60 }, blind: { maxAgeS: 300 } },
  sampling: { degraded: { dropBelow: 0.25 }, blind: { minRatio: 0.001 } },
  dropped: { degraded: { max: 0 }, blind: { max: 100 } },
  saturation: { degraded: { maxRatio: 0.5 }, blind: { maxRatio: 0.95 } },
};
export const DEFAULT_FOR: Hold = { heartbeats: 2, seconds: 0 };
export const DEFAULT_RECOVER_FOR: Hold = { heartbeats: 3, seconds: 60 };
export const DEFAULT_FLAPPING: Flapping = { transitions: 6, withinS: 1800, stableS: 600 };
export const DEFAULT_CLOCK_SKEW_S = 30;
/** A silence closes after two heartbeats back in a row: one heartbeat squeezed through a lossy link is not a recovery. */
export const DEFAULT_SILENCE_RECOVER_FOR: Hold = { heartbeats: 2, seconds: 0 };
export const DEFAULT_MAX_STOPPED_S = 86_400;
/** Prometheus re-sends a firing alert every minute; five minutes leaves room for Alertmanager's repeats. */
export const DEFAULT_WATCHDOG_MAX_AGE_S = 300;
/** A dead agent is noticed within 20 minutes at worst, whatever it declared. */
export const DEFAULT_MAX_INTERVAL_S = 600;
export const DEFAULT_MAX_GRACE_S = 600;
export const DEFAULT_REPEAT_INTERVAL_S = 3600;
export const DEFAULT_GIVE_UP_AFTER_S = 86_400;
export const DEFAULT_CHANNEL_TIMEOUT_S = 10;
export const DEFAULT_COMPONENT = 'monitoring';
export const DEFAULT_OBJECTIVE = 0.999;
export const ALERTING_COMPONENT = 'alerting';
/** Monitors the engine runs on its own: heartbeat silence, the Alertmanager path, agent clock skew. */
export const RESERVED_MONITORS: readonly string[] = ['agent', 'alert_path', 'clock_skew', 'watchdog'];
const BUILT_IN_COMPONENTS: Record<string, string> = { [DEFAULT_COMPONENT]: 'Monitoring', [ALERTING_COMPONENT]: 'Alert path' };

export type ResolveResult = { ok: true; config: WatchConfig } | { ok: false; errors: string[] };

export function resolveConfig(file: ConfigFile): ResolveResult {
  const errors: string[] = [];
  const defaults = file.defaults ?? {};
  const kindRules = mergeKinds(KIND_DEFAULTS, defaults.kinds ?? {});
  const base = {
    component: defaults.component ?? DEFAULT_COMPONENT,
    rules: kindRules,
    for: hold(DEFAULT_FOR, defaults.for),
    recoverFor: hold(DEFAULT_RECOVER_FOR, defaults.recover_for),
    flapping: flapping(DEFAULT_FLAPPING, defaults.flapping),
    severity: 'critical' as Severity,
    cause: null,
  };

  const components: Component[] = (file.components ?? []).map((c) => ({
    id: c.id,
    name: c.name,
    group: c.group ?? null,
    description: c.description ?? null,
    autoIncident: c.auto_incident ?? false,
  }));
  for (const d of duplicates(components.map((c) => c.id)))
    errors.push(`components: the id "${d}" is used twice; component ids must be unique`);
  const known = new Set(components.map((c) => c.id));
  const needComponent = (cid: string, where: string) => {
    if (known.has(cid)) return;
    const builtIn = BUILT_IN_COMPONENTS[cid];
    if (builtIn !== undefined) {
      components.push({ id: cid, name: builtIn, group: null, description: null, autoIncident: false });
      known.add(cid);
      return;
    }
    errors.push(
      `${where}: component "${cid}" is not defined; add it under "components" (id and name) or use one of ${[...known].join(', ') || DEFAULT_COMPONENT}`,
    );
  };
  needComponent(base.component, 'defaults.component');

  const monitorsIn = file.monitors ?? [];
  monitorsIn.forEach((m, i) => {
    if (RESERVED_MONITORS.includes(m.id))
      errors.push(`monitors[${i}].id: "${m.id}" is built in (${RESERVED_MONITORS.join(', ')}); choose another id`);
  });
  for (const d of duplicates(monitorsIn.map((m) => m.id))) errors.push(`monitors: the id "${d}" is used twice; monitor ids must be unique`);
  const monitors = monitorsIn.map((m, i): MonitorDef => {
    const component = m.component ?? base.component;
    needComponent(component, `monitors[${i}] (${m.id})`);
    checkThresholds(m, i, errors);
    return {
      id: m.id,
      name: m.name ?? m.id,
      component,
      agent: m.agent ?? '*',
      signal: m.signal ?? null,
      kind: m.kind ?? null,
      rules: overrideRules(kindRules, m),
      blindMaxSet: m.blind?.max !== undefined,
      for: hold(base.for, m.for),
      recoverFor: hold(base.recoverFor, m.recover_for),
      flapping: flapping(base.flapping, m.flapping),
      severity: m.severity ?? 'critical',
      dependsOn: m.depends_on ?? [],
      cause: m.cause ?? null,
      implicit: false,
    };
  });
  const ordered = dependencyOrder(monitors, errors);

  const alertSources = (file.alertmanager?.sources ?? []).map((s, i): AlertSource => {
    const component = s.component ?? ALERTING_COMPONENT;
    needComponent(component, `alertmanager.sources[${i}] (${s.id})`);
    return {
      id: s.id,
      intervalS: s.interval_s,
      graceS: s.grace_s ?? Math.max(s.interval_s, 60),
      alertname: s.alertname,
      component,
      maxAgeS: s.max_age_s ?? DEFAULT_WATCHDOG_MAX_AGE_S,
    };
  });
  for (const d of duplicates(alertSources.map((s) => s.id))) errors.push(`alertmanager.sources: the id "${d}" is used twice`);

  const maintenance = (file.maintenance ?? []).map(
    (m): Maintenance => ({
      id: m.id,
      startsAt: Date.parse(m.starts_at),
      endsAt: Date.parse(m.ends_at),
      agents: m.agents ?? ['*'],
      monitors: m.monitors ?? ['*'],
      reason: m.reason ?? null,
    }),
  );
  for (const d of duplicates(maintenance.map((m) => m.id))) errors.push(`maintenance: the id "${d}" is used twice`);

  const notifications = resolveNotifications(file, errors);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      components,
      monitors: ordered,
      defaults: base,
      clockSkewS: defaults.clock_skew_s ?? DEFAULT_CLOCK_SKEW_S,
      silence: silenceSettings(file.silence),
      alertSources,
      maintenance,
      notifications,
      gapReport: { public: file.gap_report?.public ?? false, objective: file.gap_report?.objective ?? DEFAULT_OBJECTIVE },
    },
  };
}

function resolveNotifications(file: ConfigFile, errors: string[]): Notifications {
  const n = file.notifications ?? {};
  const channels = (n.channels ?? []).map(
    (c): ChannelDef => ({
      id: c.id,
      type: c.type,
      region: c.region ?? 'us',
      endpoint: c.endpoint ?? null,
      timeoutMs: (c.timeout_s ?? DEFAULT_CHANNEL_TIMEOUT_S) * 1000,
    }),
  );
  for (const d of duplicates(channels.map((c) => c.id))) errors.push(`notifications.channels: the id "${d}" is used twice`);
  const known = new Set(channels.map((c) => c.id));
  const repeat = n.repeat_interval_s ?? DEFAULT_REPEAT_INTERVAL_S;
  const routes = (n.routes ?? []).map((r, i): Route => {
    for (const c of r.channels) {
      if (!known.has(c))
        errors.push(
          `notifications.routes[${i}].channels: no channel has the id "${c}"; define it under notifications.channels or use one of ${[...known].join(', ') || '(none defined)'}`,
        );
    }
    return {
      channels: r.channels,
      monitors: r.monitors ?? ['*'],
      components: r.components ?? null,
      agents: r.agents ?? ['*'],
      severities: r.severities ?? null,
      repeatIntervalS: r.repeat_interval_s ?? repeat,
    };
  });
  return {
    publicUrl: n.public_url?.replace(/\/+$/, '') ?? null,
    repeatIntervalS: repeat,
    giveUpAfterS: n.give_up_after_s ?? DEFAULT_GIVE_UP_AFTER_S,
    channels,
    routes,
  };
}

function hold(base: Hold, input: { heartbeats?: number | undefined; seconds?: number | undefined } | undefined): Hold {
  return { heartbeats: input?.heartbeats ?? base.heartbeats, seconds: input?.seconds ?? base.seconds };
}

function silenceSettings(input: ConfigFile['silence']): SilenceSettings {
  return {
    recoverFor: hold(DEFAULT_SILENCE_RECOVER_FOR, input?.recover_for),
    flapping: flapping(DEFAULT_FLAPPING, input?.flapping),
    maxStoppedS: input?.max_stopped_s ?? DEFAULT_MAX_STOPPED_S,
    maxIntervalS: input?.max_interval_s ?? DEFAULT_MAX_INTERVAL_S,
    maxGraceS: input?.max_grace_s ?? DEFAULT_MAX_GRACE_S,
  };
}

function flapping(
  base: Flapping,
  input: { transitions?: number | undefined; within_s?: number | undefined; stable_s?: number | undefined } | undefined,
): Flapping {
  return {
    transitions: input?.transitions ?? base.transitions,
    withinS: input?.within_s ?? base.withinS,
    stableS: input?.stable_s ?? base.stableS,
  };
}

function threshold(input: ThresholdInput | undefined): Threshold {
  const t: Threshold = {};
  if (input?.max_age_s !== undefined) t.maxAgeS = input.max_age_s;
  if (input?.min_ratio !== undefined) t.minRatio = input.min_ratio;
  if (input?.drop_below !== undefined) t.dropBelow = input.drop_below;
  if (input?.max !== undefined) t.max = input.max;
  if (input?.max_ratio !== undefined) t.maxRatio = input.max_ratio;
  return t;
}

function mergeKinds(
  base: Record<SignalKind, KindRule>,
  over: Partial<Record<SignalKind, { degraded?: ThresholdInput | undefined; blind?: ThresholdInput | undefined } | undefined>>,
): Record<SignalKind, KindRule> {
  const out = { ...base };
  for (const kind of Object.keys(base) as SignalKind[]) {
    const o = over[kind];
    if (o)
      out[kind] = { degraded: { ...base[kind].degraded, ...threshold(o.degraded) }, blind: { ...base[kind].blind, ...threshold(o.blind) } };
  }
  return out;
}

/** A monitor's thresholds apply to every kind they make sense for; the kind defaults fill the rest. */
function overrideRules(base: Record<SignalKind, KindRule>, m: MonitorInput): Record<SignalKind, KindRule> {
  const over = { degraded: m.degraded, blind: m.blind };
  return mergeKinds(base, { freshness: over, queue_age: over, sampling: over, dropped: over, saturation: over });
}

const KEYS_BY_KIND: Record<string, readonly string[]> = {
  freshness: ['max_age_s'],
  queue_age: ['max_age_s'],
  sampling: ['min_ratio', 'drop_below'],
  dropped: ['max'],
  saturation: ['max_ratio'],
};

function checkThresholds(m: MonitorInput, i: number, errors: string[]): void {
  if (m.kind === undefined) return;
  const allowed = KEYS_BY_KIND[m.kind] ?? [];
  for (const level of ['degraded', 'blind'] as const) {
    for (const key of Object.keys(m[level] ?? {})) {
      if (!allowed.includes(key))
        errors.push(`monitors[${i}] (${m.id}).${level}.${key}: a ${m.kind} monitor takes ${allowed.join(' and ')}; remove ${key}`);
    }
  }
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of ids) (seen.has(x) ? dup : seen).add(x);
  return [...dup];
}

/** Dependencies first, so a dependency is judged before the monitors it suppresses. */
function dependencyOrder(monitors: MonitorDef[], errors: string[]): MonitorDef[] {
  const byId = new Map(monitors.map((m) => [m.id, m]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: MonitorDef[] = [];
  const visit = (m: MonitorDef, path: string[]): void => {
    if (done.has(m.id)) return;
    if (visiting.has(m.id)) {
      errors.push(`monitors: depends_on forms a cycle (${[...path, m.id].join(' → ')}); remove one of these dependencies`);
      return;
    }
    visiting.add(m.id);
    for (const dep of m.dependsOn) {
      const target = byId.get(dep);
      if (target === undefined)
        errors.push(`monitors (${m.id}).depends_on: no monitor has the id "${dep}"; use one of the ids under "monitors"`);
      else visit(target, [...path, m.id]);
    }
    visiting.delete(m.id);
    done.add(m.id);
    out.push(m);
  };
  for (const m of monitors) visit(m, []);
  return out;
}
