// The fault-injection suite (npm run test:faults; npm run test:all and CI run it after npm test). Every test starts
// its own Worker (wrangler dev on 127.0.0.1), receivers and agents, bounds itself in time, and stops
// what it started. Files run one at a time: each loads this machine on purpose, and two at once would
// measure each other.
import { defineConfig } from 'vitest/config';
import { workerProject } from './vitest.config.ts';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-faults.json' }]],
    fileParallelism: false,
    projects: [
      workerProject('faults-workerd', ['test/faults/**/*.workerd.test.ts'], 300_000),
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          exclude: ['test/faults/**/*.workerd.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
