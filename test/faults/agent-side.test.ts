// Faults on the agent's side, with the real agent process: two agents whose host clocks are 10
// minutes ahead and 10 minutes behind (libfaketime), talking to the Worker through a TCP proxy whose
// link is cut for 30 s (15 heartbeats: the length of the cut is not the point, the skew is). Halfway through the cut one agent is killed and started again. Nothing
// may be lost: every heartbeat either arrived live or was spooled and backfilled, with sent_at on the
// Worker's clock, not the host's; and the gap report calls both silences what they were, link outages.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { killAndWait } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { agentSecret, secretsFor } from '../support/fleet.ts';
import { freshGet } from '../support/fresh-http.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import { requireBinary } from '../support/requirement.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const need = requireBinary('/usr/bin/faketime', 'faketime');
const CUT_MS = 30_000;
const INTERVAL_S = 2;
/** Heartbeats the cut spans. */
const IN_CUT = CUT_MS / 1000 / INTERVAL_S;
const secret = generateSecret();
const SKEWS = { ahead: '+10m', behind: '-10m' } as const;
type Name = keyof typeof SKEWS;
let w: TestWorker;
let proxy: TcpProxy;
/** When the agents were first started, by the test's (and the Worker's) clock. */
let startedAt = 0;
const agents = new Map<Name, { child: ChildProcess | undefined; log: string; spool: string }>();

function startAgent(name: Name): void {
  const state = agents.get(name) ?? { child: undefined, log: '', spool: join(w.dir, `spool-${name}`) };
  // libfaketime moves the host clock Node reads (Date.now); timers keep the real monotonic clock.
  const child = spawn(
    '/usr/bin/faketime',
    ['-f', SKEWS[name], process.execPath, 'bin/blindspot-agent.js', 'run', '--config', join(w.dir, `${name}.yaml`)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    },
  );
  child.stderr?.on('data', (d) => (state.log += d));
  state.child = child;
  agents.set(name, state);
}

/** A wait that fails says what the agents and wrangler last printed, and what the Worker took. */
async function explained<T>(wait: Promise<T>): Promise<T> {
  return wait.catch((e: unknown) => {
    const tail = (text: string) => text.slice(-3000);
    const taken = (() => {
      try {
        return JSON.stringify(d1Query(w.persistTo, 'SELECT id, state, first_seen_at, last_heartbeat_at FROM agents'));
      } catch (d1: unknown) {
        return String(d1);
      }
    })();
    throw new Error(
      `${String(e)}\nagents in D1: ${taken}\n--- ahead's log:\n${tail(logOf('ahead'))}\n--- behind's log:\n${tail(logOf('behind'))}\n--- wrangler:\n${tail(w.worker?.output() ?? '(not running)')}`,
    );
  });
}

const spooled = (name: Name) => readdirSync(agents.get(name)?.spool ?? '').filter((n) => n.endsWith('.json')).length;
const logOf = (name: Name) => agents.get(name)?.log ?? '';

beforeAll(async () => {
  if (!need.available) return;
  w = await startTestWorker('agent-side', {
    BLINDSPOT_AGENT_SECRETS: secretsFor(Object.keys(SKEWS), secret),
    BLINDSPOT_CONFIG: '{"gap_report":{"public":true}}',
  });
  proxy = await startTcpProxy(Number(new URL(w.url).port));
  startedAt = Date.now();
  for (const name of Object.keys(SKEWS) as Name[]) {
    writeFileSync(
      join(w.dir, `${name}.yaml`),
      `agent_id: ${name}\nworker_url: ${proxy.url}\nsecret: ${agentSecret(secret, name)}\ninterval_s: ${INTERVAL_S}\nsend_timeout_s: 2\nspool_dir: ${join(w.dir, `spool-${name}`)}\nprobes: [{ type: demo }]\n`,
    );
    startAgent(name);
  }
}, 90_000);

afterAll(async () => {
  for (const a of agents.values()) await killAndWait(a.child);
  await proxy?.close();
  await w?.stop();
});

describe.skipIf(!need.available)('agents with skewed clocks, a restart, and the link cut for 30 s', () => {
  it(
    "are taken on the Worker's time, spool through the cut and the restart, and backfill every heartbeat",
    async () => {
      // Skewed by ±10 minutes, beyond the 5 minutes a timestamp may be off: one refusal, then the
      // agent signs on the Worker's clock and says so.
      for (const name of Object.keys(SKEWS) as Name[]) {
        await explained(
          waitFor(
            `${name}: a live heartbeat taken`,
            async () => d1Query<{ n: number }>(w.persistTo, `SELECT count(*) AS n FROM agents WHERE id = '${name}'`)[0]?.n === 1,
            60_000,
            1000,
          ),
        );
      }
      // By how much, as the agent logs it: 600 s, give or take the Date header's second and the round trip.
      const offBy = (name: Name) => Number(/clock is off the Worker's.*off_by_s=(-?[\d.]+)/.exec(logOf(name))?.[1]);
      expect(Math.abs(offBy('ahead') - 600)).toBeLessThanOrEqual(3);
      expect(Math.abs(offBy('behind') + 600)).toBeLessThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 3 * INTERVAL_S * 1000));
      expect(`${logOf('ahead')}${logOf('behind')}`).not.toMatch(/refused/);
      // Taken, yet not hidden: live heartbeats carry the host's own sent_at, and the Worker's
      // clock_skew monitor says each host clock is wrong (a degraded window); nothing else opens.
      const skewWindows = () =>
        d1Query<{ agent_id: string; cause: string }>(w.persistTo, 'SELECT agent_id, cause FROM windows ORDER BY agent_id');
      await explained(waitFor('a clock_skew window for each agent', async () => skewWindows().length >= 2, 60_000, 1000));
      expect(skewWindows()).toEqual([
        { agent_id: 'ahead', cause: 'clock_skew' },
        { agent_id: 'behind', cause: 'clock_skew' },
      ]);

      const cutAt = Date.now();
      await proxy.cut();
      await new Promise((r) => setTimeout(r, CUT_MS / 2));
      // A crash halfway through: the new process finds the spool the old one left, and adds to it
      // before it has ever heard the Worker's clock.
      const before = spooled('ahead');
      expect(before).toBeGreaterThanOrEqual(IN_CUT / 2 - 3);
      await killAndWait(agents.get('ahead')?.child);
      startAgent('ahead');
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + CUT_MS - Date.now())));
      expect(spooled('ahead')).toBeGreaterThan(before);
      const backAt = Date.now();
      await proxy.restore();

      for (const name of Object.keys(SKEWS) as Name[]) {
        await explained(waitFor(`${name}: the spool drained`, async () => spooled(name) === 0, 120_000, 1000));
      }
      const rows = d1Query<{ agent_id: string; boot: string; seq: number; sent_at: number }>(
        w.persistTo,
        'SELECT agent_id, boot, seq, sent_at FROM backfilled_heartbeats ORDER BY agent_id, sent_at',
      );
      for (const name of Object.keys(SKEWS) as Name[]) {
        const mine = rows.filter((r) => r.agent_id === name);
        // Every heartbeat of the cut, each backfilled once (less the restart's few seconds).
        expect(mine.length, name).toBeGreaterThanOrEqual(IN_CUT - 4);
        expect(new Set(mine.map((r) => `${r.boot}/${r.seq}`)).size, name).toBe(mine.length);
        // On the Worker's clock: within the run, not 10 minutes off it. (A heartbeat whose live send
        // timed out before the cut, against a Worker still warming up, is spooled and backfilled too.)
        for (const r of mine) {
          expect(r.sent_at, `${name} ${r.boot}/${r.seq}`).toBeGreaterThanOrEqual(startedAt - 6_000);
          expect(r.sent_at, `${name} ${r.boot}/${r.seq}`).toBeLessThanOrEqual(backAt + 6_000);
        }
        // Within each boot, an unbroken run of seqs: nothing spooled was lost.
        for (const boot of new Set(mine.map((r) => r.boot))) {
          const seqs = mine
            .filter((r) => r.boot === boot)
            .map((r) => r.seq)
            .sort((a, b) => a - b);
          expect(seqs, `${name} ${boot}`).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
        }
        const rejected = join(agents.get(name)?.spool ?? '', 'rejected');
        expect(existsSync(rejected) ? readdirSync(rejected).length : 0, `${name}: nothing set aside`).toBe(0);
      }
      expect(new Set(rows.filter((r) => r.agent_id === 'ahead').map((r) => r.boot)).size).toBe(2);

      // The Worker saw silence (it cannot tell a cut link from a dead agent); the backfill tells it.
      const res = await freshGet(`${w.url}/api/v1/gaps?from=${new Date(cutAt - 60_000).toISOString()}`);
      expect(res.status).toBe(200);
      const report = JSON.parse(res.body) as {
        windows: { agent: string; cause: string; verdict: string }[];
        link_outages: { agent: string }[];
      };
      const silences = report.windows.filter((x) => x.cause === 'agent_silent');
      expect(silences.map((x) => [x.agent, x.verdict]).sort()).toEqual([
        ['ahead', 'link_outage'],
        ['behind', 'link_outage'],
      ]);
      expect(report.link_outages.map((o) => o.agent).sort()).toEqual(['ahead', 'behind']);
    },
    CUT_MS + 300_000,
  );
});
