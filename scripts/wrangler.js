#!/usr/bin/env node
// Runs wrangler with everything that would reach outside this machine switched off.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const OFFLINE_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' };
// wrangler's package exports name no bin path; its package.json is exported, and the bin sits beside it.
export const WRANGLER_BIN = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js');

if (import.meta.url === `file://${process.argv[1]}`) {
  const child = spawn(process.execPath, [WRANGLER_BIN, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...OFFLINE_ENV },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
