// The status page's 90-day bars: seconds per state per day, summed over the monitors that feed each
// component, from the agents' day rows. A day nobody observed is "no data", never "up". Pure.
import type { WatchConfig } from '../../config/resolve.ts';
import { defOf } from './monitor-defs.ts';
import { DAY_MS } from './rollup.ts';

export { DAY_MS };
export const UPTIME_DAYS = 90;

export interface DaySeconds {
  monitor: string;
  /** Start of the UTC day, ms. */
  day: number;
  good_s: number;
  degraded_s: number;
  blind_s: number;
  unknown_s: number;
  paused_s: number;
}

export type DayState = 'ok' | 'degraded' | 'blind' | 'unknown' | 'paused' | 'no_data';

export interface UptimeDay {
  day: number;
  state: DayState;
  seconds: { good: number; degraded: number; blind: number; unknown: number; paused: number };
}

export interface ComponentUptime {
  days: UptimeDay[];
  /** Share of observed time (paused left out) that was seeing: good or degraded. null with no data. */
  ratio: number | null;
}

/** The worst thing that happened that day, by time spent: blind > unknown > degraded > paused > ok. */
export function dayState(s: UptimeDay['seconds']): DayState {
  const observed = s.good + s.degraded + s.blind + s.unknown + s.paused;
  if (observed <= 0) return 'no_data';
  if (s.blind > 0) return 'blind';
  if (s.unknown > 0) return 'unknown';
  if (s.degraded > 0) return 'degraded';
  if (s.good <= 0) return 'paused';
  return 'ok';
}

export function uptimeByComponent(config: WatchConfig, rows: readonly DaySeconds[], now: number): Map<string, ComponentUptime> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const first = today - (UPTIME_DAYS - 1) * DAY_MS;
  const sums = new Map<string, Map<number, UptimeDay['seconds']>>();
  for (const r of rows) {
    const component = defOf(config, r.monitor)?.component;
    if (component === undefined || r.day < first || r.day > today) continue;
    const days = sums.get(component) ?? new Map<number, UptimeDay['seconds']>();
    const s = days.get(r.day) ?? { good: 0, degraded: 0, blind: 0, unknown: 0, paused: 0 };
    s.good += r.good_s;
    s.degraded += r.degraded_s;
    s.blind += r.blind_s;
    s.unknown += r.unknown_s;
    s.paused += r.paused_s;
    days.set(r.day, s);
    sums.set(component, days);
  }
  const out = new Map<string, ComponentUptime>();
  for (const c of config.components) {
    const days: UptimeDay[] = [];
    let seeing = 0;
    let observed = 0;
    for (let d = first; d <= today; d += DAY_MS) {
      const seconds = sums.get(c.id)?.get(d) ?? { good: 0, degraded: 0, blind: 0, unknown: 0, paused: 0 };
      seeing += seconds.good + seconds.degraded;
      observed += seconds.good + seconds.degraded + seconds.blind + seconds.unknown;
      days.push({ day: d, state: dayState(seconds), seconds });
    }
    out.set(c.id, { days, ratio: observed > 0 ? seeing / observed : null });
  }
  return out;
}
