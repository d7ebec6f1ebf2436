#!/usr/bin/env node
// The admin CLI (incidents, maintenance, silences) on Node >= 20 through tsx, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/blindspot.ts');
process.exitCode = await main(process.argv.slice(2));
