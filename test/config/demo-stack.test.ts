// The demo agent that npm start runs must show the bundled configuration a healthy stack: every
// component fed by some monitor it matches, nothing judged bad, so the page says "operational" with
// proof (and turns blind when the demo agent dies). Judged by the Worker's own engine, on simulated time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoProbe } from '../../agent/probes/demo.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { parse as parseYaml } from 'yaml';
import { viewComponents } from '../../worker/core/component-view.ts';
import { at, config, Scenario } from '../worker/core/engine/scenario.ts';

const shipped = config(readFileSync('blindspot.config.yaml', 'utf8'));
const demoAgent = parseYaml(readFileSync('examples/demo-agent.yaml', 'utf8')) as { interval_s: number; probes: { type: string }[] };

/** The demo agent's heartbeats for `seconds`, judged by the shipped configuration. */
async function demoRun(seconds: number): Promise<Scenario> {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const probe = demoProbe({ name: 'demo', labels: {}, random });
  const beats: Signal[][] = [];
  for (let s = 0; s <= seconds; s += demoAgent.interval_s) beats.push(await probe.collect());
  return new Scenario(shipped, 'demo', demoAgent.interval_s).every(0, seconds, (_s, i) => beats[i] ?? []);
}

describe('the demo agent against the bundled configuration', () => {
  it('npm start runs the demo probe alone', () => {
    expect(demoAgent.probes.map((p) => p.type)).toEqual(['demo']);
  });

  it('gives every component fresh, good evidence: the page says operational', async () => {
    const run = await demoRun(300);
    const views = viewComponents(shipped, [{ id: 'demo', live: run.live }], at(301), false);
    expect(Object.fromEntries(views.map((v) => [v.id, v.status]))).toEqual(
      Object.fromEntries(shipped.components.map((c) => [c.id, 'operational'])),
    );
    // Each component rests on a monitor that measures the pipeline, not on the agent's liveness alone.
    for (const v of views) expect(v.contributions.filter((c) => c.measures).length, v.id).toBeGreaterThan(0);
    expect(run.windows('window_opened')).toEqual([]);
  });

  it('turns blind once the demo agent falls silent', async () => {
    const run = (await demoRun(60)).alarmsUntil(120);
    const views = viewComponents(shipped, [{ id: 'demo', live: run.live }], at(120), false);
    for (const v of views) expect(v.status, v.id).not.toBe('operational');
    expect(run.windows('window_opened').map((w) => w.cause)).toContain('agent_silent');
  });
});
