// Nothing lost: the Worker (wrangler dev) is stopped while the agent runs; the heartbeats it could
// not send are spooled on disk, and after the Worker is back they are backfilled into its history,
// every one of them, without paging anyone; the gap report then shows the outage where it was.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { killAndWait } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { freshGet } from '../support/fresh-http.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

const secret = generateSecret();
let w: TestWorker;
let spoolDir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

const spooledFiles = () => readdirSync(spoolDir).filter((n) => n.endsWith('.json'));
const spooledSeqs = () => [...agentLog.matchAll(/msg="heartbeat spooled for backfill" seq=(\d+)/g)].map((m) => Number(m[1]));

beforeAll(async () => {
  w = await startTestWorker('spool', {
    BLINDSPOT_AGENT_SECRETS: `{"spooler":["${secret}"]}`,
    BLINDSPOT_CONFIG: '{"gap_report":{"public":true}}',
  });
  spoolDir = join(w.dir, 'spool');
  // grace_s 120: the outage stays shorter than the deadline, so any page would come from the backfill.
  writeFileSync(
    join(w.dir, 'agent.yaml'),
    `agent_id: spooler\nworker_url: ${w.url}\nsecret: ${secret}\ninterval_s: 1\ngrace_s: 120\nsend_timeout_s: 1\nspool_dir: ${spoolDir}\nprobes: [{ type: demo }]\n`,
  );
  agent = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', join(w.dir, 'agent.yaml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  agent.stderr?.on('data', (d) => (agentLog += d));
}, 90_000);

afterAll(async () => {
  await killAndWait(agent);
  await w?.stop();
});

describe('the Worker goes away and comes back', () => {
  it('spools what it could not send, backfills all of it after, and pages nobody', async () => {
    await waitFor(
      'a live heartbeat',
      async () =>
        /msg="agent started"/.test(agentLog) &&
        d1Query<{ n: number }>(w.persistTo, "SELECT count(*) AS n FROM agents WHERE id = 'spooler'")[0]?.n === 1,
      30_000,
    );
    const cutFrom = Date.now();
    await w.pause();
    const cutBy = Date.now();
    await waitFor('five spooled heartbeats', async () => spooledFiles().length >= 5, 30_000, 200);
    const spooled = spooledSeqs();
    const backFrom = Date.now();
    await w.resume();
    const backBy = Date.now();
    await waitFor(
      'the spool to drain',
      async () => spooledFiles().length === 0 && /msg="spooled heartbeats backfilled"/.test(agentLog),
      60_000,
      250,
    );

    const rows = d1Query<{ seq: number }>(w.persistTo, "SELECT seq FROM backfilled_heartbeats WHERE agent_id = 'spooler' ORDER BY seq");
    const backfilled = rows.map((r) => r.seq);
    // Every heartbeat spooled during the outage reached the Worker's history, in one unbroken run.
    for (const seq of spooled) expect(backfilled).toContain(seq);
    expect(backfilled.length).toBeGreaterThanOrEqual(5);
    expect(backfilled).toEqual(Array.from({ length: backfilled.length }, (_, i) => (backfilled[0] as number) + i));
    expect(d1Query<{ n: number }>(w.persistTo, "SELECT count(*) AS n FROM windows WHERE agent_id = 'spooler'")[0]?.n).toBe(0);
    expect(d1Query<{ n: number }>(w.persistTo, "SELECT count(*) AS n FROM outbox WHERE agent_id = 'spooler'")[0]?.n).toBe(0);

    // The gap report reconstructs the outage from the backfill: it began when the link was cut and
    // ended when it came back, give or take the 1 s interval and the 1 s send timeout.
    const res = await freshGet(`${w.url}/api/v1/gaps?from=${new Date(cutFrom - 60_000).toISOString()}`);
    expect(res.status).toBe(200);
    const report = JSON.parse(res.body) as { link_outages: { agent: string; started_at: string; ended_at: string; heartbeats: number }[] };
    expect(report.link_outages).toHaveLength(1);
    const outage = report.link_outages[0]!;
    expect(outage.agent).toBe('spooler');
    expect(outage.heartbeats).toBe(backfilled.length);
    expect(Date.parse(outage.started_at)).toBeGreaterThanOrEqual(cutFrom - 2_000);
    expect(Date.parse(outage.started_at)).toBeLessThanOrEqual(cutBy + 2_000);
    expect(Date.parse(outage.ended_at)).toBeGreaterThanOrEqual(backFrom - 2_000);
    expect(Date.parse(outage.ended_at)).toBeLessThanOrEqual(backBy + 3_000);
    // The waits above allow up to 2 minutes on a loaded machine; the default 20 s test timeout would not.
  }, 150_000);
});
