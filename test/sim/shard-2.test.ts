// Shard 2 of the simulator's seeds (test/sim/run.ts); vitest runs the shard files side by side.
import { simulate } from './run.ts';

simulate(1, 2);
