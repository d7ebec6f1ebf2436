// Nothing lost: the Worker (wrangler dev) is stopped while the agent runs; the heartbeats it could
// not send are spooled on disk, and after the Worker is back they are backfilled into its history,
// every one of them, without paging anyone.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { applyMigrations, type LocalWorker, startLocalWorker } from '../../scripts/local-worker.ts';
import { d1Query } from '../support/local-d1.ts';
import { freePort, waitFor } from '../support/ports.ts';

const secret = generateSecret();
const dir = mkdtempSync(join(tmpdir(), 'blindspot-spool-e2e-'));
const persistTo = join(dir, 'state');
const spoolDir = join(dir, 'spool');
let port: number;
let worker: LocalWorker | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';

const startWorker = async () => (worker = await startLocalWorker({ port, persistTo, envFile: join(dir, 'worker.env') }));
const spooledFiles = () => readdirSync(spoolDir).filter((n) => n.endsWith('.json'));
const spooledSeqs = () => [...agentLog.matchAll(/msg="heartbeat spooled for backfill" seq=(\d+)/g)].map((m) => Number(m[1]));

beforeAll(async () => {
  writeFileSync(join(dir, 'worker.env'), `BLINDSPOT_AGENT_SECRETS={"spooler":["${secret}"]}\n`);
  await applyMigrations({ persistTo });
  port = await freePort();
  await startWorker();
  // grace_s 120: the outage stays shorter than the deadline, so any page would come from the backfill.
  writeFileSync(join(dir, 'agent.yaml'), `agent_id: spooler\nworker_url: http://127.0.0.1:${port}\nsecret: ${secret}\ninterval_s: 1\ngrace_s: 120\nsend_timeout_s: 1\nspool_dir: ${spoolDir}\nprobes: [{ type: demo }]\n`);
  agent = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', join(dir, 'agent.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  agent.stderr?.on('data', (d) => (agentLog += d));
}, 90_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
  }
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Worker goes away and comes back', () => {
  it('spools what it could not send, backfills all of it after, and pages nobody', async () => {
    await waitFor('a live heartbeat', async () => /msg="agent started"/.test(agentLog) && d1Query<{ n: number }>(persistTo, "SELECT count(*) AS n FROM agents WHERE id = 'spooler'")[0]?.n === 1, 30_000);
    await worker?.stop();
    worker = undefined;
    await waitFor('five spooled heartbeats', async () => spooledFiles().length >= 5, 30_000, 200);
    const spooled = spooledSeqs();
    await startWorker();
    await waitFor('the spool to drain', async () => spooledFiles().length === 0 && /msg="spooled heartbeats backfilled"/.test(agentLog), 60_000, 250);

    const rows = d1Query<{ seq: number }>(persistTo, "SELECT seq FROM backfilled_heartbeats WHERE agent_id = 'spooler' ORDER BY seq");
    const backfilled = rows.map((r) => r.seq);
    // Every heartbeat spooled during the outage reached the Worker's history, in one unbroken run.
    for (const seq of spooled) expect(backfilled).toContain(seq);
    expect(backfilled.length).toBeGreaterThanOrEqual(5);
    expect(backfilled).toEqual(Array.from({ length: backfilled.length }, (_, i) => (backfilled[0] as number) + i));
    expect(d1Query<{ n: number }>(persistTo, "SELECT count(*) AS n FROM windows WHERE agent_id = 'spooler'")[0]?.n).toBe(0);
    expect(d1Query<{ n: number }>(persistTo, "SELECT count(*) AS n FROM outbox WHERE agent_id = 'spooler'")[0]?.n).toBe(0);
  });
});
