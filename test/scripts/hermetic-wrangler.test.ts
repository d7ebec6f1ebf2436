// The tests hand wrangler a copy of wrangler.toml in a directory of its own: a developer's .dev.vars
// (npm start writes one) must not add bindings to the Worker the tests set up.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { hermeticWranglerConfig } from '../support/hermetic-wrangler.ts';

const root = mkdtempSync(join(tmpdir(), 'blindspot-hermetic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bindingsOf = (configPath: string) =>
  unstable_getMiniflareWorkerOptions(configPath).workerOptions.bindings as Record<string, unknown> | undefined;

it("keeps a developer's .dev.vars out of the tests' bindings, and wrangler.toml's vars and paths in", () => {
  copyFileSync('wrangler.toml', join(root, 'wrangler.toml'));
  writeFileSync(join(root, '.dev.vars'), 'BLINDSPOT_WEBHOOK_URL=http://127.0.0.1:8788/blindspot-events\n');
  // The project's own configuration picks the file up: this is what the copy is for.
  expect(bindingsOf(join(root, 'wrangler.toml'))).toHaveProperty('BLINDSPOT_WEBHOOK_URL');

  const copy = hermeticWranglerConfig(root, join(root, 'out'));
  const bindings = bindingsOf(copy);
  expect(bindings).not.toHaveProperty('BLINDSPOT_WEBHOOK_URL');
  expect(bindings).toHaveProperty('BLINDSPOT_PAGE_TITLE', 'Monitoring status');
  const { main, workerOptions } = unstable_getMiniflareWorkerOptions(copy);
  expect(main).toBe(join(root, 'worker', 'index.ts'));
  expect(workerOptions.d1Databases).toHaveProperty('DB');
});
