import { app } from './app.ts';
import type { Env } from './env.ts';
import { parseSweepMaxVisits } from './core/watchdog-ticks.ts';
import { knownSubjects } from './durable/known-subjects.ts';
import { pruneAllCopies } from './durable/public-shards.ts';
import { runSweep, SWEEP_WAITS, type SweepDeps } from './jobs/sweep.ts';
import { channelRegistry } from './notify/registry.ts';
import { createDb } from './store/db.ts';
import { sayOnce } from './say-once.ts';
import { watchConfig } from './watch-config.ts';

export { AgentMonitor } from './durable/agent-monitor.ts';
export { Watchdog } from './durable/watchdog.ts';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runSweep(sweepDeps(env)));
  },
} satisfies ExportedHandler<Env>;

export function sweepDeps(env: Env): SweepDeps {
  const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
  return {
    db: createDb(env.DB),
    d1: env.DB,
    tick: (now: number) => watchdog.tick(now),
    subjects: () => knownSubjects(env),
    visit: (agentId: string, now: number) => env.AGENT.get(env.AGENT.idFromName(agentId)).visit(now),
    recordFleet: (fleet, resumeAfter) => watchdog.recordFleet(fleet, resumeAfter),
    pruneCopies: (before) => pruneAllCopies(env, before),
    summarise: (late, channels, history) => watchdog.summarise(late, channels, history),
    registry: channelRegistry(env, watchConfig(env).config.notifications),
    maxVisits: sweepMaxVisits(env.BLINDSPOT_SWEEP_MAX_VISITS),
    waits: { ...SWEEP_WAITS },
    now: Date.now,
  };
}

/** BLINDSPOT_SWEEP_MAX_VISITS, with a bad value said once per isolate (and the default used). */
function sweepMaxVisits(raw: string | undefined): number {
  const { visits, error } = parseSweepMaxVisits(raw);
  if (error !== null) sayOnce(error);
  return visits;
}
