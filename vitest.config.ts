import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';
import { TEST_ALERTMANAGER_TOKENS } from './test/worker/fixtures/alertmanager.ts';
import { TEST_AGENT_SECRETS } from './test/worker/fixtures/secrets.ts';
import { createHash } from 'node:crypto';
import { ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN, channelSecrets } from './test/worker/fixtures/channels.ts';
import { startReceiverHub } from './test/support/receiver-hub.ts';
import { LongestFirst } from './test/support/longest-first.ts';
import { preferMemoryTmp } from './test/support/memory-tmp.ts';
import { hermeticWranglerConfig } from './test/support/hermetic-wrangler.ts';

// wrangler and miniflare stay offline wherever they run.
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';
// Every test's scratch files (workerd's and wrangler's state, the agents' spools, browser profiles) on
// a memory file system where there is one: a disk's fsync latency is the machine's, not ours, and
// differs from machine to machine (test/support/memory-tmp.ts). The fault and simulator configs import this one.
preferMemoryTmp();

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A project whose tests run inside workerd (the Worker and its Durable Objects, a local D1, real receivers). */
/** `bindings` replace the test bindings of the same name; one set to undefined is left out. */
/** `serviceBindings` are Node-side services the tests reach as bindings (the simulator's seed dealer). */
export function workerProject(
  name: string,
  include: string[],
  testTimeout = 5_000,
  bindings: Record<string, string | undefined> = {},
  serviceBindings: Record<string, (request: Request) => Promise<Response>> = {},
) {
  return {
    test: {
      name,
      include,
      testTimeout,
      setupFiles: ['test/worker/apply-migrations.ts'],
    },
    plugins: [
      cloudflareTest(async () => {
        // Real receivers for the paging tests; the server is unref'd and ends with the run.
        const hub = await startReceiverHub();
        return {
          main: './worker/index.ts',
          // Not ./wrangler.toml itself: a developer's .dev.vars beside it would add bindings (hermetic-wrangler.ts).
          wrangler: { configPath: hermeticWranglerConfig() },
          miniflare: {
            // A second, empty database for the migration tests to build up step by step.
            d1Databases: { MIGRATION_DB: 'migration-test' },
            serviceBindings,
            bindings: withOverrides(
              {
                TEST_MIGRATIONS: await readD1Migrations('./worker/migrations'),
                BLINDSPOT_AGENT_SECRETS: JSON.stringify(TEST_AGENT_SECRETS),
                // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture's placeholder, replaced here
                BLINDSPOT_CONFIG: readFileSync('./test/worker/fixtures/config.yaml', 'utf8').replaceAll('${RECEIVER}', hub.url),
                BLINDSPOT_CHANNEL_SECRETS: JSON.stringify(channelSecrets(hub.url)),
                BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
                  tests: { sha256: sha256(ADMIN_TOKEN), scopes: ['read', 'write'] },
                  reader: { sha256: sha256(READ_TOKEN), scopes: ['read'] },
                  writer: { sha256: sha256(WRITE_TOKEN), scopes: ['write'] },
                }),
                RECEIVER_URL: hub.url,
                // Every public read gathers afresh: tests read right after they change something.
                // test/worker/public-refresh.test.ts runs with the default instead.
                BLINDSPOT_PUBLIC_REFRESH_S: '0',
                BLINDSPOT_ALERTMANAGER_TOKENS: JSON.stringify(TEST_ALERTMANAGER_TOKENS),
                // Port 9 (discard) refuses connections: deliveries fail and stay in the outbox.
                BLINDSPOT_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
                BLINDSPOT_WEBHOOK_SECRET: TEST_AGENT_SECRETS['webhook-receiver'][0],
              },
              bindings,
            ),
          },
        };
      }),
    ],
  };
}

function withOverrides<T>(base: Record<string, T>, overrides: Record<string, string | undefined>): Record<string, T | string> {
  return Object.fromEntries(Object.entries({ ...base, ...overrides }).filter((e): e is [string, T | string] => e[1] !== undefined));
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    // The JSON report feeds the one-line summary that scripts/test-summary.js prints after the run.
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]],
    // Three files at a time on two cores: the end-to-end files spend most of their time waiting on real
    // processes (wrangler, Prometheus, the agent) and on the holds of the faults they inject, so they
    // overlap well (4.8 minutes with three, 6.5 with two, on 2 vCPU, 2026-12-02).
    maxWorkers: 3,
    projects: [
      workerProject('worker', ['test/worker/**/*.test.ts']),
      {
        test: {
          name: 'node',
          include: [
            'test/agent/**/*.test.ts',
            'test/scripts/**/*.test.ts',
            'test/protocol/**/*.test.ts',
            'test/config/**/*.test.ts',
            'test/docs/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/examples/**/*.test.ts',
            'test/deploy/**/*.test.ts',
          ],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
