// Why a window would be recorded without paging anyone. Checked when a window opens, and again while
// it stays open: once the reason is gone (the dependency recovered, maintenance ended) it pages.
import type { Maintenance, MonitorDef } from '../../config/resolve.ts';
import { type BlindWindow, isBad } from './blind-window.ts';
import { matchesGlob } from './glob.ts';
import type { MonitorInstance } from './monitor-instance.ts';

/**
 * A window recorded quietly whose reason has passed pages now. "Noticed late" stays on it as a mark
 * for the gap report: it never silenced the window, it only held it until the watchdog was on time.
 */
export function pageNow(w: BlindWindow): BlindWindow {
  return { ...w, suppressedBy: w.suppressedBy === 'watchdog_gap' ? 'watchdog_gap' : null, paged: true };
}

export function activeMaintenance(maintenance: readonly Maintenance[], agentId: string, monitor: string, now: number): Maintenance | null {
  return maintenance.find((m) => now >= m.startsAt && now < m.endsAt && covers(m, agentId, monitor)) ?? null;
}

/** Whether a maintenance window or silence names this agent's monitor, whenever it runs. */
export const covers = (m: Maintenance, agentId: string, monitor: string): boolean =>
  m.agents.some((g) => matchesGlob(g, agentId)) && m.monitors.some((g) => matchesGlob(g, monitor));

export interface SuppressionFacts {
  agentId: string;
  def: Pick<MonitorDef, 'id' | 'dependsOn'>;
  instances: Readonly<Record<string, MonitorInstance>>;
  maintenance: readonly Maintenance[];
  /** The agent said it is stopping on purpose. */
  stopping: boolean;
  /** The watchdog itself noticed late (it was down or its alarms were not delivered). */
  late: boolean;
  now: number;
}

export function suppressionFor(f: SuppressionFacts): string | null {
  if (f.late) return 'watchdog_gap';
  if (f.stopping) return 'agent_stopped';
  const m = activeMaintenance(f.maintenance, f.agentId, f.def.id, f.now);
  if (m !== null) return `maintenance:${m.id}`;
  for (const dep of f.def.dependsOn) {
    const inst = f.instances[dep];
    // A dependency that is down, or already observing bad, explains this monitor's trouble.
    if (inst !== undefined && (inst.window !== null || isBad(inst.raw))) return `depends_on:${dep}`;
  }
  return null;
}
