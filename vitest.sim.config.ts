// The simulator (npm run sim; npm test runs seeds 1..200, CI 201..2000 besides). It runs inside
// workerd like the worker tests, with its own watchdog configuration and channels (test/sim/).
import { defineConfig } from 'vitest/config';
import { SIM_CHANNEL_SECRETS, SIM_CONFIG } from './test/sim/sim-config.ts';
import { workerProject } from './vitest.config.ts';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';

/**
 * Deals the seeds out to the shard files one at a time, so both shards stay busy to the end (a
 * schedule takes 0.1 to 2 s: shared out in advance, one shard finished a tenth earlier). After a
 * failure it deals no more: the run stops with the first failing seed.
 */
function seedDealer(): (request: Request) => Promise<Response> {
  const only = process.env.SIM_SEED ?? '';
  let next = only === '' ? Number(process.env.SIM_FROM ?? 1) : Number(only);
  const end = only === '' ? next + Number(process.env.SIM_SEEDS ?? 200) : next + 1;
  return async (request) => {
    if (new URL(request.url).pathname === '/stop') next = end;
    return Response.json({ seed: next < end ? next++ : null });
  };
}

export default defineConfig({
  test: {
    // Both shard files at once: one per vCPU.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-sim.json' }]],
    projects: [
      workerProject(
        'sim',
        ['test/sim/**/*.test.ts'],
        // Each shard's one test runs all the seeds dealt to it: its limit grows with their number (10 000
        // seeds take about 38 minutes; a fixed 30 minutes ended such a run as a failure).
        Math.max(1_800_000, 1_000 * Number(process.env.SIM_SEEDS ?? 200)),
        {
          BLINDSPOT_CONFIG: JSON.stringify(SIM_CONFIG),
          BLINDSPOT_CHANNEL_SECRETS: JSON.stringify(SIM_CHANNEL_SECRETS),
          // The simulator's operator silences tell the agents' objects; no fixture agents to tell besides.
          BLINDSPOT_AGENT_SECRETS: undefined,
          BLINDSPOT_WEBHOOK_URL: undefined,
          BLINDSPOT_WEBHOOK_SECRET: undefined,
          SIM_SEEDS: process.env.SIM_SEEDS ?? '200',
          SIM_SEED: process.env.SIM_SEED ?? '',
          SIM_FROM: process.env.SIM_FROM ?? '1',
          SIM_PROFILE: process.env.SIM_PROFILE ?? '',
          SIM_SCHEDULE: process.env.SIM_SCHEDULE ?? '',
        },
        { SEEDS: seedDealer() },
      ),
    ],
  },
});
