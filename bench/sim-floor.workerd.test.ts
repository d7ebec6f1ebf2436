// Benchmark: the least a simulator seed can cost, and so how fast 10 000 seeds can be on this machine.
// The simulator (test/sim/) drives one agent's real Durable Object in workerd: every step (a heartbeat,
// an alarm, a sweep's visit) is at least one call into that object. Measured here, in the same workerd:
//  - a call into an object that does nothing (getStatus: it answers a field it holds), the floor of a step;
//  - a heartbeat as the simulator sends one straight to the object (one signal, the decision, its
//    SQLite transaction, its public copy), on a simulated clock 5 s apart.
// With the steps a seed takes (STEPS_PER_SEED, from `SIM_PROFILE=1 npm run sim`), the floor of
// 10 000 seeds is steps x the bare call x 10 000, shared by the vCPUs (one workerd thread each).
// Printed as a BENCH_RESULT line; vitest.bench.config.ts records it.
import { expect, it } from 'vitest';
import { agentStub } from '../test/worker/fixtures/durable.ts';
import { fresh, SimulatedAgent } from '../test/worker/fixtures/simulated.ts';

/** Steps per seed over seeds 1..200, from `SIM_PROFILE=1 npm run sim -- --seeds 200` (2026-12-04). */
const STEPS_PER_SEED = 163.5;
const VCPUS = 2;
const SEEDS = 10_000;
const ROUNDS = 5;
const CALLS = 2_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Milliseconds per call of `call`, the median of ROUNDS rounds of CALLS calls after a warm-up round. */
async function perCall(call: (i: number) => Promise<unknown>): Promise<number> {
  let i = 0;
  for (let w = 0; w < CALLS / 10; w++) await call(i++);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let c = 0; c < CALLS; c++) await call(i++);
    rounds.push((performance.now() - t0) / CALLS);
  }
  return median(rounds);
}

it('the floor of a simulator seed: a bare call into an object, and a heartbeat', async () => {
  const idle = agentStub('bench-floor-idle');
  const rpcMs = await perCall(() => idle.getStatus());
  const agent = new SimulatedAgent('bench-floor-agent', undefined, 5);
  const heartbeatMs = await perCall((i) => agent.heartbeat(i * 5, [fresh('metrics.freshness', 5)]));
  const floorS = (STEPS_PER_SEED * rpcMs * SEEDS) / VCPUS / 1000;
  const result = {
    benchmark: 'sim-floor',
    setup: { calls_per_round: CALLS, rounds: ROUNDS, steps_per_seed: STEPS_PER_SEED, vcpus: VCPUS, seeds: SEEDS },
    per_call_ms: { bare_call: Number(rpcMs.toFixed(3)), heartbeat: Number(heartbeatMs.toFixed(3)) },
    floor_for_10000_seeds_s: Math.round(floorS),
    every_step_a_heartbeat_s: Math.round((STEPS_PER_SEED * heartbeatMs * SEEDS) / VCPUS / 1000),
    target: 'npm run sim -- --seeds 10000 in at most 180 s',
    met: floorS <= 180,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  expect(rpcMs).toBeGreaterThan(0);
  expect((await agent.heartbeat(CALLS * ROUNDS * 5 + 3_600, [fresh('metrics.freshness', 5)])).status).toBe('accepted');
});
