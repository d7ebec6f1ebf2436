// The simulator: many seeded schedules of faults against one agent's real Durable Object in workerd,
// each checked against the invariants. `npm run sim -- --seeds N` runs seeds 1..N; `--seed S` replays
// one. A failing seed prints itself, the shrunk schedule, the first broken invariant and the trace.
// The seeds are shared out between shard files (one per vCPU); each runs those that fall to it.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { type Broken, check } from './invariants.ts';
import { type Schedule, scheduleArb } from './schedule.ts';
import { type Outcome, played, timeSpent, World } from './world.ts';

const vars = env as unknown as { SIM_SEEDS?: string; SIM_SEED?: string; SIM_FROM?: string; SIM_PROFILE?: string; SIM_SCHEDULE?: string };
const only = vars.SIM_SEED === undefined || vars.SIM_SEED === '' ? null : Number(vars.SIM_SEED);
const seeds = only === null ? Number(vars.SIM_SEEDS ?? 200) : 1;
const from = only ?? Number(vars.SIM_FROM ?? 1);

interface Failure {
  schedule: Schedule;
  broken: Broken;
  trace: string[];
  outcome?: Outcome;
}

async function runSeed(seed: number): Promise<string | null> {
  let attempt = 0;
  let last: Failure | null = null;
  const property = fc.asyncProperty(scheduleArb, async (schedule) => {
    const world = new World(`sim-${seed}-${attempt++}`, schedule, only !== null);
    let broken: Broken | null;
    let outcome: Outcome | undefined;
    try {
      const t0 = Date.now();
      const before = Object.fromEntries(Object.entries(timeSpent).map(([k, t]) => [k, t.ms]));
      outcome = await world.run();
      const byKind = Object.entries(timeSpent)
        .map(([k, t]) => `${k} ${Math.round(t.ms - (before[k] ?? 0))}`)
        .join(' ');
      broken = check(outcome);
      if (vars.SIM_PROFILE)
        console.log(
          `seed ${seed}: ${world.steps} steps in ${Date.now() - t0} ms; route ${schedule.route === true}, resets ${schedule.segments.reduce((n, s) => n + s.resets.length, 0)}; ${world.profile()}; by kind (ms): ${byKind}`,
        );
    } catch (e: unknown) {
      broken = { invariant: 'simulator-ran', detail: `the run itself failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
    }
    if (broken !== null) {
      last = { schedule, broken, trace: world.trace(), ...(outcome === undefined ? {} : { outcome }) };
      throw new Error(`${broken.invariant}: ${broken.detail}`);
    }
  });
  const details = await fc.check(property, { seed, numRuns: 1, endOnFailure: false });
  if (!details.failed) return null;
  const failure = last as Failure | null;
  return [
    `seed ${seed} broke "${failure?.broken.invariant}" (replay: npm run sim -- --seed ${seed})`,
    `  ${failure?.broken.detail}`,
    `  shrunk schedule (${details.numShrinks} shrinks): ${JSON.stringify(details.counterexample?.[0])}`,
    `  windows in D1: ${JSON.stringify(failure?.outcome?.d1Windows.map((w) => [w.id.split(':').slice(1).join(':'), w.cause, w.started_at, w.ended_at, w.suppressed_by]))}`,
    `  received (channel kind window at): ${JSON.stringify(failure?.outcome?.received.map((r) => [r.channel, r.kind, r.windowId.split(':').slice(1).join(':'), r.at]))}`,
    "  trace (heartbeats taken on time and the object's log left out; --seed shows them):",
    ...(failure?.trace
      .filter((l) => vars.SIM_SEED !== '' || !/: accepted|s log: /.test(l))
      .slice(0, vars.SIM_SEED !== '' ? 2000 : 80)
      .map((l) => `    ${l}`) ?? []),
  ].join('\n');
}

/** Plays one schedule given as JSON (a shrunk one, as a failure prints it) with its full trace. */
async function runSchedule(json: string): Promise<string | null> {
  const schedule = JSON.parse(json) as Schedule;
  const world = new World(`sim-given-${Date.now()}`, schedule, true);
  const outcome = await world.run();
  const broken = check(outcome);
  return broken === null
    ? null
    : [`the given schedule broke "${broken.invariant}"`, `  ${broken.detail}`, ...world.trace().map((l) => `    ${l}`)].join('\n');
}

export function simulate(shard: number, shards: number): void {
  if (vars.SIM_SCHEDULE !== undefined && vars.SIM_SCHEDULE !== '') {
    if (shard === 0)
      it('the invariants hold for the given schedule', async () => {
        const failure = await runSchedule(vars.SIM_SCHEDULE as string);
        if (failure !== null) expect.fail(failure);
      });
    else it.skip('the given schedule runs in shard 1', () => {});
    return;
  }
  const dealer = (env as unknown as { SEEDS: Fetcher }).SEEDS;
  const deal = async (path: string) => ((await (await dealer.fetch(`http://dealer${path}`)).json()) as { seed: number | null }).seed;
  it(`the invariants hold for the seeds dealt to shard ${shard + 1} of ${shards} (seeds ${from}..${from + seeds - 1} in all)`, async () => {
    const started = Date.now();
    let ran = 0;
    for (let seed = await deal('/next'); seed !== null; seed = await deal('/next')) {
      const failure = await runSeed(seed);
      ran++;
      if (failure !== null) {
        await deal('/stop');
        console.error(failure);
        expect.fail(failure);
      }
    }
    if (vars.SIM_PROFILE)
      console.log(
        `shard ${shard + 1}, real time by kind of call: ${Object.entries(timeSpent)
          .map(([kind, t]) => `${kind} ${Math.round(t.ms)} ms in ${t.n} (${(t.ms / t.n).toFixed(2)} ms each)`)
          .join('; ')}`,
      );
    console.log(
      `sim shard ${shard + 1}/${shards}: ${ran} seed(s) passed in ${((Date.now() - started) / 1000).toFixed(1)} s (${played.retries} with set-aside batches retried)`,
    );
  });
}
