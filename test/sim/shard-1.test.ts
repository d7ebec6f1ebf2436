// Shard 1 of the simulator's seeds (test/sim/run.ts); vitest runs the shard files side by side.
import { simulate } from './run.ts';

simulate(0, 2);
