#!/usr/bin/env node
// npm run sim -- --seeds N [--from F] | --seed S | --schedule JSON
// Runs the simulator (test/sim/) inside workerd: seeds F..F+N-1 (default 1..2000), or replays seed S
// alone with its full trace.
import { spawn } from 'node:child_process';
import { OFFLINE_ENV } from './wrangler.js';

const args = process.argv.slice(2);
const usage = "usage: npm run sim -- [--seeds N] [--from F] | --seed S | --schedule '<a schedule as a failure prints it>'";
const env = { ...process.env, ...OFFLINE_ENV, SIM_SEEDS: '2000', SIM_FROM: '1', SIM_SEED: '' };
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--schedule') {
    let schedule;
    try {
      schedule = JSON.parse(value ?? '');
    } catch (e) {
      console.error(
        `sim: --schedule needs a schedule as JSON, as a failing seed prints it (${e instanceof Error ? e.message : String(e)})\n${usage}`,
      );
      process.exit(2);
    }
    if (
      typeof schedule?.intervalS !== 'number' ||
      typeof schedule?.noise !== 'number' ||
      !Array.isArray(schedule?.segments) ||
      schedule.segments.length === 0
    ) {
      console.error(`sim: --schedule needs the fields intervalS (number), noise (number) and segments (a non-empty list)\n${usage}`);
      process.exit(2);
    }
    env.SIM_SCHEDULE = value;
    continue;
  }
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) {
    console.error(`sim: ${flag ?? ''} needs a whole number of at least 1 after it\n${usage}`);
    process.exit(2);
  }
  if (flag === '--seeds') env.SIM_SEEDS = value;
  else if (flag === '--from') env.SIM_FROM = value;
  else if (flag === '--seed') env.SIM_SEED = value;
  else {
    console.error(`sim: unknown option ${flag}\n${usage}`);
    process.exit(2);
  }
}
const vitest = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '-c', 'vitest.sim.config.ts'], { stdio: 'inherit', env });
vitest.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
