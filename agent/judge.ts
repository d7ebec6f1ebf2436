// `once` judges a heartbeat the way the Worker will: the same monitor selection and the same thresholds
// (from the watchdog configuration when given, else each kind's defaults). Pure.
import type { WatchConfig } from '../config/resolve.ts';
import type { Signal } from '../protocol/heartbeat.ts';
import type { Level } from '../worker/core/blind-window.ts';
import { selectMonitors } from '../worker/core/monitor-defs.ts';
import { classifySignal, ruleFor } from '../worker/core/signal-level.ts';

export interface Verdict {
  signal: Signal;
  monitor: string;
  level: Level;
}

export function judge(config: WatchConfig, agentId: string, signals: readonly Signal[]): Verdict[] {
  const out: Verdict[] = [];
  for (const { def, signals: selected } of selectMonitors(config, agentId, signals)) {
    // A sampling baseline needs history the agent does not keep: only the floors apply here.
    for (const signal of selected) out.push({ signal, monitor: def.id, level: classifySignal(signal, ruleFor(def, signal), null).level });
  }
  return out;
}

export const allUp = (verdicts: readonly Verdict[]) => verdicts.every((v) => v.level === 'up');

/** One line per signal: level, name{labels}, value and unit, the monitor, and the error if any. */
export function verdictTable(verdicts: readonly Verdict[]): string {
  const rows = verdicts.map(({ signal: s, monitor, level }) => {
    const labels = Object.entries(s.labels ?? {})
      .filter(([k]) => k !== 'source')
      .map(([k, v]) => `${k}=${v}`);
    const value = s.value === null ? 'unknown' : `${s.value}${s.unit ? ` ${s.unit}` : ''}`;
    return [level.toUpperCase(), `${s.name}${labels.length ? `{${labels.join(',')}}` : ''}`, value, monitor, s.error ?? ''];
  });
  return table(['LEVEL', 'SIGNAL', 'VALUE', 'MONITOR', 'ERROR'], rows);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
