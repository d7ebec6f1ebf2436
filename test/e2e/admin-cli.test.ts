// `blindspot` (the admin CLI) against a real Worker under wrangler dev: a token it makes is accepted,
// an incident goes open → update → resolve and shows on the public API, maintenance and silences
// are scheduled and ended, and bad usage or a refusing Worker give a clear message and exit code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notToldWarning, plan, timeArg } from '../../cli/blindspot.ts';
import { runBin } from '../support/child.ts';
import { d1Query } from '../support/local-d1.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';

let worker: TestWorker;
let token: string;

const cli = (args: string[], env: Record<string, string> = {}) =>
  runBin('bin/blindspot.js', args, { BLINDSPOT_WORKER_URL: worker?.url ?? '', BLINDSPOT_ADMIN_TOKEN: token ?? '', ...env });

beforeAll(async () => {
  const made = (await runBin('bin/blindspot.js', ['token', 'e2e'], {})).stdout;
  token = /^ {2}([0-9a-f]{64})$/m.exec(made)?.[1] as string;
  const entry = /^ {2}(\{.*\})$/m.exec(made)?.[1] as string;
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  expect(entry).not.toContain(token);
  worker = await startTestWorker('admin-cli', {
    BLINDSPOT_CONFIG: JSON.stringify({ components: [{ id: 'api', name: 'Public API' }], defaults: { component: 'api' } }),
    BLINDSPOT_ADMIN_TOKENS: entry,
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
});

describe('blindspot incident', () => {
  it('opens, updates and resolves an incident that the public API shows', async () => {
    const opened = await cli([
      'incident',
      'open',
      '--name',
      'API errors',
      '--body',
      'We are investigating.',
      '--impact',
      'major',
      '--component',
      'api',
    ]);
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    const id = /^opened incident ([a-z0-9]{12}): API errors\n$/.exec(opened.stdout)?.[1] as string;
    expect(id).toBeDefined();

    const updated = await cli(['incident', 'update', id, '--status', 'identified', '--body', 'A bad deploy.']);
    expect(updated).toMatchObject({ code: 0, stdout: `incident ${id} is now identified\n` });
    const unresolved = (await (await fetch(`${worker.url}/api/v2/incidents/unresolved.json`)).json()) as {
      incidents: { id: string; status: string; impact: string }[];
    };
    expect(unresolved.incidents).toEqual([expect.objectContaining({ id, status: 'identified', impact: 'major' })]);

    expect(await cli(['incident', 'resolve', id])).toMatchObject({ code: 0, stdout: `incident ${id} resolved\n` });
    const list = await cli(['incident', 'list']);
    expect(list.stdout).toBe(`${id}  resolved  API errors\n`);
    const after = (await (await fetch(`${worker.url}/api/v2/incidents/unresolved.json`)).json()) as { incidents: unknown[] };
    expect(after.incidents).toEqual([]);
  });

  it('says what the Worker refused, with exit 1', async () => {
    const r = await cli(['incident', 'update', 'nosuchincident', '--status', 'identified', '--body', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('blindspot: no incident "nosuchincident" (HTTP 404, unknown_incident)\n');
    const wrong = await cli(['incident', 'list'], { BLINDSPOT_ADMIN_TOKEN: 'f'.repeat(64) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HTTP 401, bad_credentials/);
  });
});

describe('blindspot maintenance and silence', () => {
  it('schedules maintenance that shows the component under maintenance, and completes it', async () => {
    const r = await cli([
      'maintenance',
      'schedule',
      '--name',
      'Database upgrade',
      '--from',
      'now',
      '--until',
      '1h',
      '--component',
      'api',
      '--monitor',
      '*',
    ]);
    expect(r.stderr).toBe('');
    const id = /^maintenance ([a-z0-9]{12}) in_progress: /.exec(r.stdout)?.[1] as string;
    expect(id).toBeDefined();
    const components = (await (await fetch(`${worker.url}/api/v2/components.json`)).json()) as {
      components: { id: string; status: string }[];
    };
    expect(components.components.find((c) => c.id === 'api')?.status).toBe('under_maintenance');
    expect(await cli(['maintenance', 'complete', id])).toMatchObject({ code: 0, stdout: `maintenance ${id} is completed\n` });
  });

  it('adds and expires a silence', async () => {
    const r = await cli(['silence', 'add', '--reason', 'rebuild', '--until', '30m', '--agent', 'web-*']);
    const id = /^silence ([a-z0-9]{12}) until /.exec(r.stdout)?.[1] as string;
    expect(id, r.stderr).toBeDefined();
    expect((await cli(['silence', 'list'])).stdout).toMatch(new RegExp(`^${id}  active  until `));
    expect(await cli(['silence', 'expire', id])).toMatchObject({ code: 0, stdout: `silence ${id} expired: paging resumes\n` });
  });

  it('refuses bad usage with exit 2, naming the flag and the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['incident', 'open', '--body', 'x'], /--name is required, e\.g\. --name "Delayed metrics"/],
      [['incident', 'update', 'abc'], /--status is required/],
      [['incident', 'resolve'], /give the incident's id/],
      [['maintenance', 'schedule', '--name', 'x', '--from', 'tomorrow', '--until', '1h'], /--from "tomorrow" is not a time/],
      [['silence', 'add', '--reason', 'x', '--until', '5 minutes'], /--until "5 minutes" is not a time/],
      [['nonsense'], /unknown command "nonsense"/],
      [['incident', 'open', '--name', 'x', '--body', 'y', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const noUrl = await cli(['incident', 'list'], { BLINDSPOT_WORKER_URL: '' });
    expect(noUrl).toMatchObject({ code: 2, stderr: expect.stringMatching(/set BLINDSPOT_WORKER_URL/) });
  });
});

describe('the CLI request plan', () => {
  it('turns durations into times after --from, and keeps RFC 3339 as written', () => {
    const base = Date.parse('2026-11-22T10:00:00Z');
    expect(timeArg('--until', '90m', base)).toBe('2026-11-22T11:30:00.000Z');
    expect(timeArg('--until', '1d', base)).toBe('2026-11-23T10:00:00.000Z');
    // Prometheus durations, as everywhere else: seconds, compound, weeks.
    expect(timeArg('--until', '1h30m', base)).toBe('2026-11-22T11:30:00.000Z');
    expect(timeArg('--until', '45s', base)).toBe('2026-11-22T10:00:45.000Z');
    expect(timeArg('--until', '1w', base)).toBe('2026-11-29T10:00:00.000Z');
    expect(() => timeArg('--until', '0m', base)).toThrow(/is not a time: give RFC 3339/);
    expect(() => timeArg('--until', '2 hours', base)).toThrow(/a duration such as 90m, 2h, 1h30m, 1d or 1w/);
    expect(timeArg('--from', '2026-11-22T12:00:00+01:00', base)).toBe('2026-11-22T12:00:00+01:00');
    const call = plan(
      ['maintenance', 'schedule'],
      { name: 'x', from: '2026-11-22T12:00:00Z', until: '2h', component: ['api', 'web'] },
      base,
    );
    expect(call.body).toEqual({
      name: 'x',
      scheduled_for: '2026-11-22T12:00:00Z',
      scheduled_until: '2026-11-22T14:00:00.000Z',
      components: ['api', 'web'],
    });
  });
});

describe('blindspot agent and blindspot token', () => {
  it('agent add, list, rotate and revoke: the secret shown once, keys listed by id', async () => {
    const added = await cli(['agent', 'add', 'cli-edge']);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(/^added agent cli-edge: key [0-9a-f]{12}\. Its secret is shown this once/);
    const first = /key ([0-9a-f]{12})/.exec(added.stdout)?.[1] as string;
    const rotated = await cli(['agent', 'rotate', 'cli-edge']);
    const second = /key ([0-9a-f]{12})/.exec(rotated.stdout)?.[1] as string;
    expect(rotated.stdout).toContain(`blindspot agent revoke cli-edge --key <old key id>`);
    const listed = await cli(['agent', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^cli-edge  managed  ${first} \\(.+ by e2e\\), ${second} \\(.+ by e2e\\)$`, 'm'));
    expect(listed.stdout).not.toContain('whsec_');
    expect(await cli(['agent', 'replication', 'cli-edge'])).toMatchObject({
      code: 0,
      stdout:
        'agent cli-edge (not heard yet): 0 batch(es) waiting for D1; 0 set aside (refused for good), 0 dropped (the queue was full)\n',
    });
    expect(await cli(['agent', 'replication', 'cli-nobody'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no agent "cli-nobody"'),
    });
    const fleet = await cli(['agent', 'replication']);
    expect(fleet.code).toBe(0);
    expect(fleet.stdout).toMatch(/^the Watchdog object: \d+ batch\(es\) waiting for D1.*; 0 set aside \(refused for good\), 0 dropped/m);
    expect(await cli(['watchdog', 'replication'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^the Watchdog object: \d+ batch\(es\) waiting for D1.*; 0 set aside \(refused for good\), 0 dropped \(the queue was full\)\n$/,
      ),
    });
    expect(await cli(['watchdog', 'replication', 'retry'])).toMatchObject({
      code: 0,
      stdout: 'the Watchdog object: 0 set-aside batch(es) queued again; blindspot watchdog replication shows how they fare\n',
    });
    expect(await cli(['watchdog', 'replication', 'acknowledge'])).toMatchObject({
      code: 0,
      stdout: 'the Watchdog object: 0 set-aside batch(es) forgotten and 0 dropped cleared\n',
    });
    expect(await cli(['watchdog', 'replication', 'now'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give retry or acknowledge'),
    });
    expect(await cli(['watchdog', 'restart'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown watchdog command "restart"'),
    });
    expect(await cli(['agent', 'replication', 'cli-edge', 'retry'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('agent cli-edge: 0 set-aside batch(es) queued again'),
    });
    expect(await cli(['agent', 'replication', 'cli-edge', 'acknowledge'])).toMatchObject({
      code: 0,
      stdout: 'agent cli-edge: 0 set-aside batch(es) forgotten and 0 dropped cleared; /healthz follows at the next sweep\n',
    });
    expect(await cli(['agent', 'replication', 'cli-nobody', 'retry'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no agent "cli-nobody"'),
    });
    expect(await cli(['agent', 'replication', 'cli-edge', 'b'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give retry or acknowledge'),
    });
    expect(await cli(['agent', 'replication', 'A!', 'retry'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give one agent id'),
    });
    expect(await cli(['agent', 'revoke', 'cli-edge', '--key', first])).toMatchObject({
      code: 0,
      stdout: `key ${first} of agent cli-edge revoked\n`,
    });
    expect(await cli(['agent', 'revoke', 'cli-edge'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('cli-edge revoked and retired'),
    });
    const gone = await cli(['agent', 'revoke', 'cli-edge']);
    expect(gone).toMatchObject({ code: 1, stderr: expect.stringContaining('no agent "cli-edge"') });
    expect(await cli(['agent', 'revoke', 'cli-edge', '--key', 'xyz'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('12 hex digits'),
    });
  });

  it('token add makes a token that works at once; token revoke ends it', async () => {
    const made = await cli(['token', 'add', 'cli-reader', '--scope', 'read']);
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const reader = /^ {2}([0-9a-f]{64})$/m.exec(made.stdout)?.[1] as string;
    expect(reader).toBeDefined();
    expect(await cli(['incident', 'list'], { BLINDSPOT_ADMIN_TOKEN: reader })).toMatchObject({ code: 0 });
    const denied = await cli(['agent', 'add', 'x1'], { BLINDSPOT_ADMIN_TOKEN: reader });
    expect(denied).toMatchObject({ code: 1, stderr: expect.stringContaining('lacks the "write" scope') });
    const list = JSON.parse((await cli(['token', 'list', '-o', 'json'])).stdout) as { tokens: { name: string; source: string }[] };
    expect(list.tokens.map((t) => [t.name, t.source])).toEqual([
      ['cli-reader', 'managed'],
      ['e2e', 'setting'],
    ]);
    expect(await cli(['token', 'revoke', 'cli-reader'])).toMatchObject({ code: 0 });
    expect(await cli(['incident', 'list'], { BLINDSPOT_ADMIN_TOKEN: reader })).toMatchObject({ code: 1 });
    expect(await cli(['token', 'add', 'x', '--scope', 'admin'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--scope is read or write'),
    });
  });
});

describe("blindspot when the Worker could not tell every agent's object of a pause", () => {
  it('warns on stderr, naming them; says nothing when every one was told', () => {
    expect(notToldWarning({ agents_not_told: [] })).toBeNull();
    expect(notToldWarning({ silence: {} })).toBeNull();
    expect(notToldWarning({ agents_not_told: ['web-1', 'web-2'] })).toBe(
      'warning: stored, but 2 agent(s) (web-1, web-2) could not be told now; they read it themselves within 5 minutes (until then, paging may not have paused or resumed for them)',
    );
    expect(notToldWarning({ agents_not_told: ['*'] })).toMatch(
      /^warning: stored, but the agents could not be listed, so none was told now;/,
    );
    const many = Array.from({ length: 12 }, (_, i) => `a${i}`);
    expect(notToldWarning({ agents_not_told: many })).toContain('12 agent(s) (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, ...)');
  });

  it('prints no warning when every agent was told', async () => {
    const r = await cli(['silence', 'add', '--reason', 'all-told', '--until', '10m']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('blindspot while D1 cannot answer', () => {
  it('sends the request again after the 503 and its Retry-After, and the silence is made once', async () => {
    // The table renamed away: every statement on it fails, as in a D1 outage, until it is renamed back.
    d1Query(worker.persistTo, 'ALTER TABLE maintenances RENAME TO maintenances_away');
    const running = cli(['silence', 'add', '--reason', 'during-d1-outage', '--until', '30m']);
    await new Promise((r) => setTimeout(r, 1500));
    d1Query(worker.persistTo, 'ALTER TABLE maintenances_away RENAME TO maintenances');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^silence [a-z0-9]{12} until /);
    expect(r.stderr).toMatch(
      /^blindspot: the watchdog's database \(D1\) could not answer now; .+ \(HTTP 503, storage_unavailable\); sending it again in 5 s \(try 2 of 3\)\n$/,
    );
    const listed = JSON.parse((await cli(['silence', 'list', '--json'])).stdout) as { silences: { reason: string }[] };
    expect(listed.silences.filter((s) => s.reason === 'during-d1-outage')).toHaveLength(1);
  });
});
