#!/usr/bin/env node
// Runs the agent's TypeScript directly on Node >= 20 through tsx, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../agent/cli.ts');
process.exitCode = await main(process.argv.slice(2));
