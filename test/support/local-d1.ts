// Reads the local D1 of a `wrangler dev --persist-to` run, through wrangler itself.
import { spawnSync } from 'node:child_process';
import { OFFLINE_ENV, WRANGLER_BIN } from '../../scripts/wrangler.js';

export function d1Query<T>(persistTo: string, sql: string): T[] {
  const result = spawnSync(
    process.execPath,
    [WRANGLER_BIN, 'd1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', sql],
    {
      encoding: 'utf8',
      env: { ...process.env, ...OFFLINE_ENV },
      timeout: 30_000,
    },
  );
  if (result.status !== 0) throw new Error(`wrangler d1 execute failed: ${result.stderr}${result.stdout}`);
  return (JSON.parse(result.stdout) as { results: T[] }[])[0]?.results ?? [];
}
