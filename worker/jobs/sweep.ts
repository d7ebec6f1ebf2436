// The one-minute safety net. Detection itself happens in each agent's alarm; the sweep only catches
// what an alarm missed and retries notifications that could not be delivered.
import type { EnsureResult } from '../durable/agent-monitor.ts';
import type { Channel } from '../notify/channel.ts';
import { listAgents } from '../store/agents.ts';
import type { Db } from '../store/db.ts';
import { deliverDueEvents, type DeliveryReport } from './deliver-outbox.ts';

export interface SweepDeps {
  db: Db;
  ensureAlarm: (agentId: string) => Promise<EnsureResult>;
  channel: Channel | null;
  now: () => number;
}

export interface SweepReport {
  checked: number;
  rearmed: string[];
  fired: string[];
  failed: string[];
  delivery: DeliveryReport | null;
}

export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { checked: 0, rearmed: [], fired: [], failed: [], delivery: null };
  const agents = await listAgents(deps.db);
  for (const agent of agents.filter((a) => a.state === 'up')) {
    report.checked++;
    try {
      const result = await deps.ensureAlarm(agent.id);
      if (result === 'armed') report.rearmed.push(agent.id);
      if (result === 'fired') report.fired.push(agent.id);
    } catch (e: unknown) {
      console.error(`sweep: agent ${agent.id} could not be checked:`, e);
      report.failed.push(agent.id);
    }
  }
  if (deps.channel !== null) report.delivery = await deliverDueEvents(deps.db, deps.channel, deps.now, { limit: 100 });
  return report;
}
