// A flood of readers against the local stack as npm start runs it: wrangler dev behind its front door
// (scripts/front-door.ts, in a process of its own), the public surfaces cached as by default (2 s). For 15 s, 100 impatient
// readers give up after 1 to 30 ms, again and again, while 40 patient ones read the page, the JSON,
// the feed and the badge, and an agent sends every second. Without the door, wrangler dev's entry kept
// every abandoned connection open until workerd ran out of file descriptors and crashed; and readers
// sharing another's build of an answer got 500s. Here: every patient read is answered 200, the agent's
// heartbeats are all taken and nobody is paged, and workerd's descriptors stay bounded.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import type { FrontDoor } from '../../scripts/front-door.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { hookedWorkerVars, LoopingAgent } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { freePort, waitFor } from '../support/ports.ts';

const FLOOD_MS = 15_000;
/** The page, the Statuspage JSON, the feed, and a component's badge (its id read first). */
const PATHS = ['/', '/api/v2/summary.json', '/api/v2/status.json', '/history.atom'];
const secret = generateSecret();
const hookSecret = generateSecret();
let w: TestWorker;
let door: FrontDoor;
let receiver: Recorder;
let agent: LoopingAgent | undefined;

/** Open file descriptors of each workerd in the Worker's process group. */
function workerdDescriptors(): number[] {
  const group = w.worker?.pid;
  if (group === undefined) return [];
  return execFileSync('ps', ['-eo', 'pid=,pgid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === group && m[3] === 'workerd')
    .map((m) => readdirSync(`/proc/${m[1]}/fd`).length);
}

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('flood', {
    ...hookedWorkerVars(['steady'], secret, `${receiver.url}/hook`, hookSecret),
    BLINDSPOT_PUBLIC_REFRESH_S: '2',
  });
  // In a process of its own, as npm start runs it: the 40 patient readers below do not share its event loop.
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/front-door-process.ts', String(await freePort()), w.url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the front door exited (${code}) before it listened`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  door = {
    url,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}, 90_000);

afterAll(async () => {
  agent?.stop();
  await door?.close();
  await w?.stop();
  await receiver?.close();
});

describe('a flood of readers, many of them impatient, through the front door', () => {
  it('answers every patient reader 200, takes every heartbeat, pages nobody, and keeps workerd within its files', async () => {
    agent = new LoopingAgent(door.url, 'steady', secret, { intervalS: 1, graceS: 2, boot: 'b1' });
    agent.start();
    await waitFor('the agent taken', async () => agent?.results.some((r) => r?.status === 202), 20_000);
    const summary = (await (await fetch(`${door.url}/api/v2/summary.json`)).json()) as { components: { id: string; group: boolean }[] };
    const component = summary.components.find((c) => !c.group)?.id;
    PATHS.push(`/badge/${component}.json`);
    const before = agent.results.length;
    const end = Date.now() + FLOOD_MS;
    const pick = () => `${door.url}${PATHS[Math.floor(Math.random() * PATHS.length)]}`;
    // The impatient readers in a process of their own, as another machine's would be.
    const flood = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/impatient-readers.ts', door.url, String(FLOOD_MS), '100', PATHS.join(',')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let floodOut = '';
    flood.stdout?.on('data', (d) => (floodOut += d));
    const flooded = new Promise<void>((resolve) => flood.on('exit', () => resolve()));
    const patient: string[] = [];
    const waits: number[] = [];
    const reader = async () => {
      while (Date.now() < end) {
        const url = pick();
        const t0 = performance.now();
        patient.push(
          await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
            async (r) => (await r.arrayBuffer(), r.status === 200 ? '200' : `${r.status} ${url}`),
            (e: unknown) => `no answer from ${url}: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
        waits.push(performance.now() - t0);
      }
    };
    const peak = { fds: 0 };
    const watch = setInterval(() => (peak.fds = Math.max(peak.fds, ...workerdDescriptors())), 500);
    await Promise.all([flooded, ...Array.from({ length: 40 }, reader)]);
    clearInterval(watch);
    const { abandoned } = JSON.parse(floodOut) as { abandoned: number; answered: number };
    const during = agent.results.slice(before);
    agent.stop();

    const tally = patient.reduce<Record<string, number>>((t, s) => ((t[s] = (t[s] ?? 0) + 1), t), {});
    waits.sort((a, b) => a - b);
    const at = (q: number) => Math.round(waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0);
    console.log(
      `flood: ${abandoned} reads abandoned, patient answers ${JSON.stringify(tally)} (waited ms: median ${at(0.5)}, 99th ${at(0.99)}, longest ${at(1)}), heartbeats ${during.length} (slowest ${Math.round(Math.max(...during.map((r) => r?.ms ?? 0)))} ms), workerd descriptors at most ${peak.fds}`,
    );
    expect(abandoned).toBeGreaterThan(1000);
    expect(patient.length).toBeGreaterThan(200);
    expect(tally).toEqual({ 200: patient.length });
    expect(during.length).toBeGreaterThanOrEqual(FLOOD_MS / 1000 - 2);
    expect(during.every((r) => LoopingAgent.taken(r))).toBe(true);
    expect(peak.fds).toBeLessThan(2_000);
    // Still up, at once, and nothing opened for the agent that kept sending.
    expect((await fetch(`${door.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status).toBe(200);
    const opened = receiver.requests
      .map((r) => new Webhook(hookSecret).verify(r.body, r.headers as Record<string, string>) as { type: string })
      .filter((e) => e.type === 'window.opened');
    expect(opened).toEqual([]);
  }, 90_000);
});
