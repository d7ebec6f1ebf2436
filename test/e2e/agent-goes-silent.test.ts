// The whole loop on real parts: wrangler dev (workerd + local D1), the agent as a separate process,
// and a webhook receiver. Stopping the agent must make it blind on the page and in D1 within 12 s.
import { migratedD1 } from '../support/migrated-d1.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import type { LocalWorker } from '../../scripts/local-worker.ts';
import { startOnFreePort } from '../support/e2e-worker.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import { killAndWait } from '../support/child.ts';

const agentSecret = generateSecret();
const webhookSecret = generateSecret();
const dir = mkdtempSync(join(tmpdir(), 'blindspot-e2e-'));
const persistTo = join(dir, 'state');
let worker: LocalWorker;
let receiver: Recorder;
let agent: ChildProcess | undefined;

function startAgent(): ChildProcess {
  return spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', join(dir, 'agent.yaml')], { stdio: 'ignore' });
}

const stopAgent = () => killAndWait(agent);

interface Row {
  state: string;
  verifiedAt: number | null;
}

async function pageRow(): Promise<Row | undefined> {
  const html = await (await fetch(`${worker.url}/`)).text();
  const start = html.indexOf('<span class="name">e2e</span>');
  if (start < 0) return undefined;
  const row = html.slice(start, html.indexOf('</li>', start));
  const verified = /<time datetime="([^"]+)"/.exec(row)?.[1];
  return { state: /class="state ([a-z_]+)"/.exec(row)?.[1] ?? '', verifiedAt: verified ? Date.parse(verified) : null };
}

interface WindowRow {
  cause: string;
  started_at: number;
  confirmed_at: number;
  ended_at: number | null;
}

function d1Windows(): WindowRow[] {
  return d1Query<WindowRow>(
    persistTo,
    "SELECT cause, started_at, confirmed_at, ended_at FROM windows WHERE agent_id = 'e2e' ORDER BY started_at",
  );
}

function receivedEvents(): { type: string; window: { id: string; ended_at: string | null } }[] {
  return receiver.requests.map((r) => {
    const event = new Webhook(webhookSecret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      data: { window: { id: string; ended_at: string | null } };
    };
    return { type: event.type, window: event.data.window };
  });
}

beforeAll(async () => {
  receiver = await startRecorder();
  writeFileSync(
    join(dir, 'worker.env'),
    [
      `BLINDSPOT_AGENT_SECRETS={"e2e":["${agentSecret}"]}`,
      `BLINDSPOT_WEBHOOK_URL=${receiver.url}/events`,
      `BLINDSPOT_WEBHOOK_SECRET=${webhookSecret}`,
    ].join('\n'),
  );
  await migratedD1(persistTo);
  ({ worker } = await startOnFreePort((port) => ({ port, persistTo, envFile: join(dir, 'worker.env') })));
  writeFileSync(
    join(dir, 'agent.yaml'),
    `agent_id: e2e\nworker_url: ${worker.url}\nsecret_env: E2E_SECRET\ninterval_s: 5\ngrace_s: 5\nspool_dir: ${join(dir, 'spool')}\nprobes:\n  - type: demo\n`,
  );
  process.env.E2E_SECRET = agentSecret;
}, 90_000);

afterAll(async () => {
  await stopAgent();
  await worker?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an agent that goes silent', () => {
  it('is verified while it sends, grey by its deadline and blind within 14 s of its last heartbeat once killed, and up again when it returns', async () => {
    agent = startAgent();
    await waitFor('the agent to be verified on the page', async () => (await pageRow())?.state === 'operational', 30_000);

    await stopAgent();
    const last = (await pageRow())?.verifiedAt;
    expect(last).toBeTypeOf('number');
    const lastHeartbeatAt = last as number;

    // Never green past the deadline (10 s: no answer is cached past it; 1 s for polling and a loaded
    // machine); blind once the alarm has judged it and the page has re-read (every 2 s,
    // BLINDSPOT_PUBLIC_REFRESH_S's default).
    const greySeenAt = await waitFor(
      'the page to stop calling the agent operational',
      async () => ((await pageRow())?.state !== 'operational' ? Date.now() : undefined),
      20_000,
      100,
    );
    expect(greySeenAt - lastHeartbeatAt, worker.output()).toBeLessThanOrEqual(11_000);
    const blindSeenAt = await waitFor(
      'the page to show the agent blind',
      async () => ((await pageRow())?.state === 'blind' ? Date.now() : undefined),
      20_000,
      100,
    );
    expect(blindSeenAt - lastHeartbeatAt, worker.output()).toBeLessThanOrEqual(14_000);

    const [opened, ...more] = d1Windows();
    expect(more).toHaveLength(0);
    expect(opened).toMatchObject({
      cause: 'agent_silent',
      started_at: lastHeartbeatAt + 5_000,
      confirmed_at: lastHeartbeatAt + 10_000,
      ended_at: null,
    });
    // Detection is the alarm at the deadline, not a cron: the page is queued within 2 s of it.
    const [queued] = d1Query<{ created_at: number }>(
      persistTo,
      "SELECT created_at FROM outbox WHERE agent_id = 'e2e' AND event_type = 'window.opened'",
    );
    expect(queued!.created_at - opened!.confirmed_at, worker.output()).toBeLessThanOrEqual(2_000);
    await waitFor('the window.opened event', async () => receivedEvents().some((e) => e.type === 'window.opened'), 10_000);

    agent = startAgent();
    await waitFor('the agent to be verified again', async () => (await pageRow())?.state === 'operational', 30_000);
    // The silence closes after two heartbeats back (silence.recover_for), ended at the first.
    await waitFor('the silence window to close', async () => d1Windows()[0]?.ended_at != null, 20_000);
    const [closed] = d1Windows();
    expect(closed?.ended_at).toBeGreaterThan(lastHeartbeatAt + 10_000);
    await waitFor('the window.closed event', async () => receivedEvents().some((e) => e.type === 'window.closed'), 10_000);
    const events = receivedEvents();
    expect(events.map((e) => e.type)).toEqual(['window.opened', 'window.closed']);
    expect(new Set(events.map((e) => e.window.id)).size).toBe(1);
  }, 120_000);
});
