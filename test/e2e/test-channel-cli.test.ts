// `blindspot-agent test-channel` against a real Worker (wrangler dev) and a real receiver: it proves
// a channel works, says why when it does not, and exits accordingly.
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { runBin } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';

const hookSecret = generateSecret();
const adminToken = 'e2e-admin-token-0123456789abcdef0123';
let worker: TestWorker;
let receiver: Recorder;

/** Runs the CLI as its own process (asynchronously: the receiver in this process must keep answering). */
const cli = (args: string[], env: Record<string, string>) => runBin('bin/blindspot-agent.js', ['test-channel', ...args], env);

beforeAll(async () => {
  receiver = await startRecorder();
  const config = {
    notifications: {
      channels: [
        { id: 'ops-hook', type: 'webhook' },
        { id: 'ops-slack', type: 'slack' },
      ],
    },
  };
  worker = await startTestWorker('cli', {
    BLINDSPOT_CONFIG: JSON.stringify(config),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({
      'ops-hook': { url: `${receiver.url}/hook`, secret: hookSecret },
      'ops-slack': `${receiver.url}/slack`,
    }),
    BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
      e2e: { sha256: createHash('sha256').update(adminToken).digest('hex'), scopes: ['read', 'write'] },
    }),
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
});

describe('blindspot-agent test-channel', () => {
  it('sends a signed test through the channel and exits 0', async () => {
    const r = await cli(['ops-hook'], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: adminToken });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^ops-hook \(webhook\) window\.opened: delivered, HTTP 202, \d+ ms\nops-hook: the receiver took the test notification\n$/,
    );
    const [got] = receiver.requests;
    const event = new Webhook(hookSecret).verify(got!.body, got!.headers as Record<string, string>) as {
      type: string;
      data: { window: { agent: string; cause: string } };
    };
    expect(event).toMatchObject({ type: 'window.opened', data: { window: { agent: 'blindspot-test', cause: 'test' } } });
  });

  it('exits 1 and says what the receiver answered when it refuses', async () => {
    receiver.answer(() => ({ status: 404, body: 'no_service' }));
    const r = await cli(['ops-slack'], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: adminToken });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ops-slack (slack) window.opened: retry, HTTP 404, ');
    expect(r.stdout).toContain('receiver answered HTTP 404: no_service');
    expect(r.stdout).toContain('ops-slack: the test notification was NOT delivered');
    expect(r.stdout + r.stderr).not.toContain(receiver.url);
    receiver.answer(() => ({ status: 202, body: '{}' }));
  });

  it('exits 1 for an unknown channel or a wrong token, 2 for usage errors, naming the fix', async () => {
    const unknown = await cli(['nope'], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: adminToken });
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'blindspot-agent test-channel: no channel "nope"; channels are ops-hook, ops-slack\n',
    });
    const wrong = await cli(['ops-hook'], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: 'not-the-token' });
    expect(wrong).toMatchObject({
      code: 1,
      stderr: 'blindspot-agent test-channel: send an admin token as "Authorization: Bearer <token>"\n',
    });
    expect(await cli([], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: adminToken })).toMatchObject({ code: 2 });
    expect((await cli(['ops-hook'], { BLINDSPOT_WORKER_URL: '', BLINDSPOT_ADMIN_TOKEN: adminToken })).stderr).toMatch(
      /set BLINDSPOT_WORKER_URL/,
    );
    expect(await cli(['ops-hook'], { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: '' })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/set BLINDSPOT_ADMIN_TOKEN/),
    });
  });
});

describe('blindspot channel list | test (the admin CLI)', () => {
  const admin = (args: string[]) =>
    runBin('bin/blindspot.js', args, { BLINDSPOT_WORKER_URL: worker.url, BLINDSPOT_ADMIN_TOKEN: adminToken });

  it('tests a channel as the agent CLI does, exit 0 when the receiver took it and 1 when not', async () => {
    const ok = await admin(['channel', 'test', 'ops-hook']);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(
      /^ops-hook \(webhook\) window\.opened: delivered, HTTP 202, \d+ ms\nops-hook: the receiver took the test notification\n$/,
    );
    receiver.answer(() => ({ status: 500, body: 'down' }));
    const refused = await admin(['channel', 'test', 'ops-slack']);
    receiver.answer(() => ({ status: 202, body: '{}' }));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('ops-slack: the test notification was NOT delivered');
    const json = await admin(['channel', 'test', 'ops-hook', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ channel: 'ops-hook', type: 'webhook', ok: true });
  });

  it('lists the channels, one line each, or as JSON', async () => {
    const list = await admin(['channel', 'list']);
    expect(list.code).toBe(0);
    expect(
      list.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('  ').slice(0, 3)),
    ).toEqual([
      ['ops-hook', 'webhook', 'ready'],
      ['ops-slack', 'slack', 'ready'],
    ]);
    const json = JSON.parse((await admin(['channel', 'list', '--output', 'json'])).stdout) as { channels: { id: string }[] };
    expect(json.channels.map((c) => c.id)).toEqual(['ops-hook', 'ops-slack']);
    expect(await admin(['channel', 'list', '-o', 'yaml'])).toMatchObject({ code: 2, stderr: expect.stringContaining('text or json') });
  });
});
