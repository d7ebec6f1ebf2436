// Incidents, maintenance and silences through the admin API, and what the public sees of them: the
// Statuspage v2 shapes field by field, feeds, badges, the page; scoped hashed tokens; hostile input;
// and a D1 failure answered with the kept snapshot.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseAdminTokens } from '../../worker/config.ts';
import { app } from '../../worker/app.ts';
import { TEST_ALERTMANAGER_TOKENS } from './fixtures/alertmanager.ts';
import { ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN } from './fixtures/channels.ts';
import { fireAlarm, heardAgo } from './fixtures/durable.ts';
import { BASE, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';

const admin = (path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) =>
  send(
    new Request(`${BASE}/v1/admin${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? ADMIN_TOKEN}` }),
        'content-type': 'application/json',
      },
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    }),
  );

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return JSON.parse(text) as T;
}

const publicJson = async <T>(path: string) => json<T>(await send(new Request(`${BASE}${path}`)), 200);
const iso = (ms: number) => new Date(ms).toISOString();

interface Incident {
  id: string;
  name: string;
  status: string;
  impact: string;
  resolved_at: string | null;
  monitoring_at: string | null;
  components: { id: string; status: string }[];
  incident_updates: { id: string; status: string; body: string; incident_id: string }[];
  [key: string]: unknown;
}

const INCIDENT_KEYS = [
  'components',
  'created_at',
  'id',
  'impact',
  'incident_updates',
  'monitoring_at',
  'name',
  'page_id',
  'resolved_at',
  'shortlink',
  'started_at',
  'status',
  'updated_at',
];
const UPDATE_KEYS = ['affected_components', 'body', 'created_at', 'display_at', 'id', 'incident_id', 'status', 'updated_at'];

async function incidentCount(): Promise<number> {
  return Number((await env.DB.prepare('SELECT count(*) AS n FROM incidents').first<{ n: number }>())?.n);
}

describe('admin tokens', () => {
  it('are kept as SHA-256 with scopes: a token in clear text is refused with the fix', () => {
    expect(() => parseAdminTokens(JSON.stringify({ ops: 'a'.repeat(40) }))).toThrow(/store the token's SHA-256, not the token/);
    expect(() => parseAdminTokens(JSON.stringify({ ops: { sha256: 'abc', scopes: ['read'] } }))).toThrow(
      /sha256 is 64 lowercase hex digits/,
    );
    expect(() => parseAdminTokens(JSON.stringify({ ops: { sha256: 'a'.repeat(64), scopes: ['admin'] } }))).toThrow(
      /each scope is "read" or "write"/,
    );
    expect(() => parseAdminTokens(JSON.stringify({ ops: { sha256: 'a'.repeat(64), scopes: [] } }))).toThrow(/at least one scope/);
  });

  it('refuse a missing, wrong, agent or Alertmanager credential with 401, and a token without the scope with 403', async () => {
    for (const token of [
      null,
      'wrong-token-0123456789abcdef0123456789',
      TEST_AGENT_SECRETS.alpha[0],
      TEST_ALERTMANAGER_TOKENS.prod,
      `${ADMIN_TOKEN}x`,
    ]) {
      const res = await admin('/incidents', { token, body: { name: 'x', body: 'y' } });
      expect((await json<{ error: { code: string } }>(res, 401)).error.code).toBe('bad_credentials');
    }
    const agent = await json<{ error: { message: string } }>(await admin('/incidents', { token: TEST_AGENT_SECRETS.alpha[0] }), 401);
    expect(agent.error.message).toMatch(/agent secret/);
    const readOnly = await json<{ error: { code: string; message: string } }>(
      await admin('/incidents', { token: READ_TOKEN, body: { name: 'x', body: 'y' } }),
      403,
    );
    expect(readOnly.error).toMatchObject({ code: 'insufficient_scope', message: expect.stringContaining('"write"') });
    await json(await admin('/incidents', { token: READ_TOKEN }), 200);
    expect((await json<{ error: { code: string } }>(await admin('/incidents', { token: WRITE_TOKEN }), 403)).error.code).toBe(
      'insufficient_scope',
    );
    expect(await incidentCount()).toBe(0);
  });
});

describe('incidents', () => {
  it('go investigating → identified → monitoring → resolved, in Statuspage shapes field by field', async () => {
    const created = await json<{ incident: Incident }>(
      await admin('/incidents', {
        body: { name: 'Metrics delayed', body: 'We are looking into delayed metrics.', impact: 'major', components: ['metrics'] },
      }),
      201,
    );
    const id = created.incident.id;
    expect(id).toMatch(/^[a-z0-9]{12}$/);
    expect(Object.keys(created.incident).sort()).toEqual(INCIDENT_KEYS);
    expect(created.incident).toMatchObject({
      name: 'Metrics delayed',
      status: 'investigating',
      impact: 'major',
      page_id: 'blindspot',
      resolved_at: null,
      monitoring_at: null,
      shortlink: `https://status.example.test/#incident-${id}`,
    });
    expect(created.incident.components.map((c) => c.id)).toEqual(['metrics']);

    await json(await admin(`/incidents/${id}/updates`, { body: { status: 'identified', body: 'A full queue in the collector.' } }), 201);
    await json(await admin(`/incidents/${id}/updates`, { body: { status: 'monitoring', body: 'Queue drained; watching.' } }), 201);

    const unresolved = await publicJson<{ page: { id: string }; incidents: Incident[] }>('/api/v2/incidents/unresolved.json');
    const open = unresolved.incidents.find((i) => i.id === id) as Incident;
    expect(open.status).toBe('monitoring');
    expect(open.monitoring_at).toMatch(/Z$/);
    expect(open.incident_updates.map((u) => u.status)).toEqual(['monitoring', 'identified', 'investigating']);
    for (const u of open.incident_updates) {
      expect(Object.keys(u).sort()).toEqual(UPDATE_KEYS);
      expect(u.incident_id).toBe(id);
    }
    const summary = await publicJson<{ incidents: Incident[] }>('/api/v2/summary.json');
    expect(summary.incidents.map((i) => i.id)).toContain(id);

    const resolved = await json<{ incident: Incident }>(await admin(`/incidents/${id}/resolve`, { method: 'POST' }), 201);
    expect(resolved.incident).toMatchObject({ status: 'resolved', resolved_at: expect.stringMatching(/Z$/) });
    expect(resolved.incident.incident_updates[0]).toMatchObject({ status: 'resolved', body: 'This incident has been resolved.' });
    expect((await publicJson<{ incidents: Incident[] }>('/api/v2/incidents/unresolved.json')).incidents.map((i) => i.id)).not.toContain(id);
    expect((await publicJson<{ incidents: Incident[] }>('/api/v2/incidents.json')).incidents.find((i) => i.id === id)?.status).toBe(
      'resolved',
    );
    expect((await publicJson<{ incidents: Incident[] }>('/api/v2/summary.json')).incidents.map((i) => i.id)).not.toContain(id);

    // Resolved is final, except for a postmortem.
    expect(
      (
        await json<{ error: { code: string } }>(
          await admin(`/incidents/${id}/updates`, { body: { status: 'investigating', body: 'again?' } }),
          409,
        )
      ).error.code,
    ).toBe('incident_resolved');
    await json(await admin(`/incidents/${id}/updates`, { body: { status: 'postmortem', body: 'Write-up: https://example.org/pm' } }), 201);
  });

  it('can have their text corrected by a human, update by update', async () => {
    const { incident } = await json<{ incident: Incident }>(
      await admin('/incidents', { body: { name: 'Typo incidnet', body: 'Teh first update.' } }),
      201,
    );
    const edited = await json<{ incident: Incident }>(
      await admin(`/incidents/${incident.id}`, { method: 'PATCH', body: { name: 'Typo incident', impact: 'minor' } }),
      200,
    );
    expect(edited.incident.name).toBe('Typo incident');
    const updateId = incident.incident_updates[0]?.id as string;
    const fixed = await json<{ incident: Incident }>(
      await admin(`/incidents/${incident.id}/updates/${updateId}`, { method: 'PATCH', body: { body: 'The first update.' } }),
      200,
    );
    expect(fixed.incident.incident_updates[0]?.body).toBe('The first update.');
    expect(
      (
        await json<{ error: { code: string } }>(
          await admin(`/incidents/${incident.id}/updates/nope`, { method: 'PATCH', body: { body: 'x' } }),
          404,
        )
      ).error.code,
    ).toBe('unknown_update');
    await json(await admin(`/incidents/${incident.id}/resolve`, { body: { body: 'Fixed.' } }), 201);
  });

  it('refuse hostile input with a 4xx that names the field, and change nothing', async () => {
    const before = await incidentCount();
    const cases: [unknown, number, RegExp][] = [
      ['{not json', 400, /not valid JSON/],
      [[], 400, /name/],
      [{ name: 'x' }, 400, /body/],
      [{ name: '', body: 'x' }, 400, /name must not be empty/],
      [{ name: 'x'.repeat(201), body: 'x' }, 400, /name is at most 200/],
      [{ name: 'x', body: 'y', status: 'resolved' }, 400, /status is investigating, identified or monitoring/],
      [{ name: 'x', body: 'y', impact: 'catastrophic' }, 400, /impact is one of/],
      [{ name: 'x', body: 'y', components: ['nope'] }, 422, /unknown component "nope"; components are metrics, alerting/],
      [{ name: 'x', body: 'y', components: 'metrics' }, 400, /components is a list/],
      [{ name: 'x', body: 'y', started_at: '2026-11-22 10:00' }, 400, /started_at is an RFC 3339 time with a zone/],
      [{ name: 'x', body: 'y', started_at: '2026-02-30T10:00:00Z' }, 400, /started_at is not a real date and time/],
      [{ name: 'x', body: 'y', started_at: new Date(Date.now() + 3_600_000).toISOString() }, 422, /started_at is in the future/],
      [{ name: 'x', body: 'y', started_at: '0001-01-01T00:00:00Z' }, 422, /started_at is more than a year ago; check the year/],
      [{ name: 'x', body: 'y', started_at: '0226-12-01T10:00:00+01:00' }, 422, /more than a year ago/],
      [{ name: 'x', body: 'y', extra: 1 }, 400, /extra/],
      [{ name: 'x', body: 'y', __proto__: { admin: true } }, 201, /./],
    ];
    let created = 0;
    for (const [body, status, message] of cases) {
      const res = await admin('/incidents', { body });
      const answer = await json<{ error?: { message: string } }>(res, status);
      if (status === 201) created++;
      else expect(answer.error?.message).toMatch(message);
    }
    const huge = await admin('/incidents', { body: { name: 'x', body: 'y'.repeat(20_000) } });
    expect(huge.status).toBe(413);
    expect(await incidentCount()).toBe(before + created);
    expect(
      (await json<{ error: { code: string } }>(await admin('/incidents/nope/updates', { body: { status: 'identified', body: 'x' } }), 404))
        .error.code,
    ).toBe('unknown_incident');
  });
});

describe('maintenance and silences', () => {
  it('a maintenance in progress shows its components as under_maintenance; upcoming and active lists are right; completing it ends it', async () => {
    const now = Date.now();
    const active = await json<{ scheduled_maintenance: Record<string, unknown> & { id: string } }>(
      await admin('/maintenances', {
        body: {
          name: 'Prometheus upgrade',
          body: 'Upgrading to 3.x.',
          components: ['metrics'],
          agents: ['nobody-*'],
          scheduled_for: iso(now - 60_000),
          scheduled_until: iso(now + 3_600_000),
        },
      }),
      201,
    );
    expect(active.scheduled_maintenance).toMatchObject({
      status: 'in_progress',
      impact: 'maintenance',
      scheduled_for: iso(now - 60_000),
      scheduled_until: iso(now + 3_600_000),
      monitors: ['prometheus-up', 'metrics-fresh'],
    });
    const later = await json<{ scheduled_maintenance: { id: string } }>(
      await admin('/maintenances', {
        body: { name: 'Disk swap', scheduled_for: iso(now + 86_400_000), scheduled_until: iso(now + 90_000_000) },
      }),
      201,
    );

    const components = await publicJson<{ components: { id: string; status: string }[] }>('/api/v2/components.json');
    expect(components.components.find((c) => c.id === 'metrics')?.status).toBe('under_maintenance');
    const act = await publicJson<{ scheduled_maintenances: { id: string; status: string; incident_updates: { status: string }[] }[] }>(
      '/api/v2/scheduled-maintenances/active.json',
    );
    expect(act.scheduled_maintenances.map((m) => m.id)).toEqual([active.scheduled_maintenance.id]);
    expect(act.scheduled_maintenances[0]?.incident_updates.map((u) => u.status)).toEqual(['in_progress', 'scheduled']);
    const up = await publicJson<{ scheduled_maintenances: { id: string; status: string }[] }>(
      '/api/v2/scheduled-maintenances/upcoming.json',
    );
    expect(up.scheduled_maintenances.map((m) => [m.id, m.status])).toEqual([[later.scheduled_maintenance.id, 'scheduled']]);
    const page = await (await send(new Request(`${BASE}/`))).text();
    expect(page).toContain('<h2>Maintenance in progress</h2>');
    expect(page).toContain('<h2>Upcoming maintenance</h2>');

    const done = await json<{ scheduled_maintenance: { status: string; incident_updates: { status: string }[] } }>(
      await admin(`/maintenances/${active.scheduled_maintenance.id}/complete`, { method: 'POST' }),
      200,
    );
    expect(done.scheduled_maintenance.status).toBe('completed');
    expect(done.scheduled_maintenance.incident_updates[0]?.status).toBe('completed');
    expect(
      (await publicJson<{ components: { id: string; status: string }[] }>('/api/v2/components.json')).components.find(
        (c) => c.id === 'metrics',
      )?.status,
    ).not.toBe('under_maintenance');
    expect(
      (
        await json<{ error: { code: string } }>(
          await admin(`/maintenances/${active.scheduled_maintenance.id}/complete`, { method: 'POST' }),
          409,
        )
      ).error.code,
    ).toBe('maintenance_completed');
    // Cancelled before it starts: it never runs.
    const cancelled = await json<{ scheduled_maintenance: { status: string } }>(
      await admin(`/maintenances/${later.scheduled_maintenance.id}/complete`, { method: 'POST' }),
      200,
    );
    expect(cancelled.scheduled_maintenance.status).toBe('completed');
  });

  it('refuses a bad schedule with a 422 that says what is wrong', async () => {
    const now = Date.now();
    const bad: [Record<string, unknown>, number, RegExp][] = [
      [{ name: 'x', scheduled_for: iso(now + 60_000), scheduled_until: iso(now) }, 422, /scheduled_until must be after scheduled_for/],
      [{ name: 'x', scheduled_for: iso(now - 7_200_000), scheduled_until: iso(now - 3_600_000) }, 422, /in the past/],
      [{ name: 'x', scheduled_for: iso(now), scheduled_until: iso(now + 40 * 86_400_000) }, 422, /at most 31 days/],
      [{ name: 'x', scheduled_for: 'tomorrow', scheduled_until: iso(now + 60_000) }, 400, /scheduled_for is an RFC 3339 time/],
      [{ name: 'x', scheduled_for: iso(now), scheduled_until: iso(now + 60_000), components: ['nope'] }, 422, /unknown component/],
      [{ name: 'x', scheduled_for: iso(now), scheduled_until: iso(now + 60_000), agents: ['a b'] }, 400, /each of agents uses letters/],
    ];
    for (const [body, status, message] of bad)
      expect((await json<{ error: { message: string } }>(await admin('/maintenances', { body }), status)).error.message).toMatch(message);
  });

  it('refuses a silence whose selector is not a glob (a backtracking pattern, markup, too long) with a 400, and stores nothing', async () => {
    const ends_at = iso(Date.now() + 3_600_000);
    const before = (await json<{ silences: unknown[] }>(await admin('/silences', { method: 'GET' }), 200)).silences.length;
    for (const selector of [`${'*?'.repeat(20)}Z`, '<img src=x>', 'a'.repeat(129), ''])
      for (const field of ['agents', 'monitors']) {
        const res = await admin('/silences', { body: { reason: 'hostile', [field]: [selector], ends_at } });
        expect((await json<{ error: { message: string } }>(res, 400)).error.message, `${field}: ${selector}`).toMatch(
          new RegExp(`${field}`),
        );
      }
    expect((await json<{ silences: unknown[] }>(await admin('/silences', { method: 'GET' }), 200)).silences.length).toBe(before);
  });

  it('a silence pauses paging: a silent agent under it opens a window that pages nobody; expiring it resumes paging', async () => {
    // Made before the heartbeat whose deadline passes under it: told then, the object would have looked
    // at that deadline more than 250 ms late, and waited 5 s before judging (a watchdog held up).
    const { silence } = await json<{ silence: { id: string; active: boolean; ends_at: string } }>(
      await admin('/silences', {
        body: { reason: 'rebuilding kilo', agents: ['kilo'], starts_at: iso(Date.now() - 60_000), ends_at: iso(Date.now() + 3_600_000) },
      }),
      201,
    );
    await heardAgo('kilo', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'kilo' }));
    expect(silence.active).toBe(true);
    const list = await json<{ silences: { id: string }[] }>(await admin('/silences', { token: READ_TOKEN }), 200);
    expect(list.silences.map((s) => s.id)).toContain(silence.id);
    await fireAlarm('kilo');
    const window = await env.DB.prepare("SELECT suppressed_by FROM windows WHERE agent_id = 'kilo' AND ended_at IS NULL").first<{
      suppressed_by: string | null;
    }>();
    expect(window?.suppressed_by).toBe(`maintenance:silence:${silence.id}`);

    const expired = await json<{ silence: { active: boolean } }>(await admin(`/silences/${silence.id}`, { method: 'DELETE' }), 200);
    expect(expired.silence.active).toBe(false);
    // Expiring it told kilo's object, which paged the window there and then: no alarm needed.
    const after = await env.DB.prepare("SELECT suppressed_by FROM windows WHERE agent_id = 'kilo' AND ended_at IS NULL").first<{
      suppressed_by: string | null;
    }>();
    expect(after?.suppressed_by).toBeNull();
    expect((await json<{ error: { code: string } }>(await admin(`/silences/${silence.id}`, { method: 'DELETE' }), 409)).error.code).toBe(
      'silence_expired',
    );
  });
});

describe('automatic incidents', () => {
  it('a paged window on a customer-facing component opens a public incident, a human can reword it, and the close resolves it', async () => {
    await heardAgo('juliet', 11_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, seq: 1, boot: 'juliet-boot', sent_at }), { agent: 'juliet' }),
    );
    await fireAlarm('juliet');
    const open = await publicJson<{ incidents: Incident[] }>('/api/v2/incidents/unresolved.json');
    // The one juliet's window opened (kilo's, above, has the same name).
    const ours = await env.DB.prepare("SELECT id FROM incidents WHERE source LIKE 'window:juliet:%'").first<{ id: string }>();
    const auto = open.incidents.find((i) => i.id === ours?.id) as Incident;
    expect(auto?.name).toBe('Metrics pipeline: we cannot currently verify its status');
    expect(auto).toMatchObject({ status: 'investigating', impact: 'major', components: [expect.objectContaining({ id: 'metrics' })] });
    expect(auto.incident_updates[0]?.body).toMatch(
      /^Our independent watchdog lost sight of Metrics pipeline at \S+Z: the agent that watches it stopped reporting\./,
    );
    const row = await env.DB.prepare('SELECT source FROM incidents WHERE id = ?').bind(auto.id).first<{ source: string }>();
    expect(row?.source).toMatch(/^window:/);

    // Running the same alarm again opens nothing new.
    await fireAlarm('juliet');
    expect(
      Number((await env.DB.prepare('SELECT count(*) AS n FROM incidents WHERE source = ?').bind(row?.source).first<{ n: number }>())?.n),
    ).toBe(1);

    await json(
      await admin(`/incidents/${auto.id}/updates/${auto.incident_updates[0]?.id}`, {
        method: 'PATCH',
        body: { body: 'We lost sight of our metrics pipeline; customers are not affected.' },
      }),
      200,
    );
    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, seq: 2, boot: 'juliet-boot' }), { agent: 'juliet' });
    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, seq: 3, boot: 'juliet-boot' }), { agent: 'juliet' });
    const all = await publicJson<{ incidents: Incident[] }>('/api/v2/incidents.json');
    const closed = all.incidents.find((i) => i.id === auto.id) as Incident;
    expect(closed.status).toBe('resolved');
    expect(closed.incident_updates.map((u) => u.status)).toEqual(['resolved', 'investigating']);
    expect(closed.incident_updates[0]?.body).toMatch(/^Visibility was restored at \S+Z, after about \d+ min\.$/);
    expect(closed.incident_updates[1]?.body).toBe('We lost sight of our metrics pipeline; customers are not affected.');
  });
});

describe('feeds and badges', () => {
  it('history.atom and history.rss carry incidents with their updates, every piece escaped', async () => {
    await json(
      await admin('/incidents', { body: { name: 'Feed <b>test</b> & "quotes"', body: 'Body with <script>alert(1)</script>' } }),
      201,
    );
    const atom = await send(new Request(`${BASE}/history.atom`));
    expect(atom.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const text = await atom.text();
    expect(text).toContain('<feed xmlns="http://www.w3.org/2005/Atom"');
    expect(text).toContain('<title>Feed &lt;b&gt;test&lt;/b&gt; &amp; &quot;quotes&quot;</title>');
    expect(text).not.toContain('<script');
    expect(text).toContain('&amp;lt;script&amp;gt;');
    const rss = await send(new Request(`${BASE}/history.rss`));
    expect(rss.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const rssText = await rss.text();
    expect(rssText).toMatch(
      /<item><title>Feed &lt;b&gt;test&lt;\/b&gt; &amp; &quot;quotes&quot;<\/title><link>https:\/\/status\.example\.test\/#incident-[a-z0-9]{12}<\/link>/,
    );
    expect(rssText).toMatch(/<pubDate>[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT<\/pubDate>/);
  });

  it('feeds stay well-formed XML when an incident carries characters XML 1.0 forbids', async () => {
    const forbidden = 'bell\u0007 vt\u000B esc\u001B lone\uD800 fffe\uFFFE';
    await json(await admin('/incidents', { body: { name: `Control ${forbidden}`, body: `Text ${forbidden} kept: tab\tand é 🙂` } }), 201);
    for (const path of ['/history.atom', '/history.rss']) {
      const text = await (await send(new Request(`${BASE}${path}`))).text();
      expect(text, path).not.toMatch(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none of them is left
        /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
      );
      // D1 stores text as UTF-8: a lone surrogate comes back as U+FFFD (one per byte), which XML allows.
      expect(text, path).toMatch(/Control bell vt esc lone\uFFFD* fffe/);
      expect(text, path).toContain('tab\tand é 🙂');
    }
  });

  it('a shields.io endpoint badge per component; an unknown one is a 404 JSON', async () => {
    const badge = await publicJson<Record<string, unknown>>('/badge/alerting.json');
    expect(badge).toEqual({
      schemaVersion: 1,
      label: expect.any(String),
      message: 'unverified',
      color: 'lightgrey',
      cacheSeconds: expect.any(Number),
    });
    expect(badge.cacheSeconds).toBeGreaterThanOrEqual(2);
    expect(badge.cacheSeconds).toBeLessThanOrEqual(10);
    const missing = await json<{ error: { code: string } }>(await send(new Request(`${BASE}/badge/nope.json`)), 404);
    expect(missing.error.code).toBe('unknown_component');
  });
});

describe('the page and API when D1 fails', () => {
  const brokenD1 = new Proxy({} as D1Database, {
    get: () => () => {
      throw new Error('D1_ERROR: injected failure: database unavailable');
    },
  });

  async function call(path: string, db: D1Database): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await app.request(path, {}, { ...env, DB: db }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it('serve the kept snapshot with its age and a banner, status 200, and live component states', async () => {
    const { incident } = await json<{ incident: Incident }>(
      await admin('/incidents', { body: { name: 'Before the D1 outage', body: 'Kept in the snapshot.' } }),
      201,
    );
    // A good read keeps the copy (in the Watchdog object, outside D1).
    expect((await call('/api/v2/summary.json', env.DB)).status).toBe(200);
    const page = await call('/', brokenD1);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/Our status database is unavailable: incidents, maintenance and history are a saved copy from \d+ s ago/);
    expect(html).toContain('Before the D1 outage');
    const api = await call('/api/v2/summary.json', brokenD1);
    expect(api.status).toBe(200);
    const body = (await api.json()) as {
      page: { blindspot_snapshot: { taken_at: string; age_seconds: number } | null };
      incidents: { id: string }[];
      components: { id: string }[];
    };
    expect(body.page.blindspot_snapshot).toMatchObject({ taken_at: expect.stringMatching(/Z$/), age_seconds: expect.any(Number) });
    expect(body.incidents.map((i) => i.id)).toContain(incident.id);
    expect(body.components.map((c) => c.id)).toEqual(['metrics', 'alerting']);
    for (const path of ['/api/v2/incidents.json', '/api/v2/status.json', '/history.atom', '/badge/metrics.json'])
      expect((await call(path, brokenD1)).status, path).toBe(200);
  });
});

describe('an XSS corpus in incident names and bodies', () => {
  // Vectors of the kind past status-page CVEs used: script and event-handler injection, javascript:
  // URLs, SVG, markup breaking out of attributes and of <style>/<title>, entities, and template syntax.
  const VECTORS = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<svg/onload=alert(1)>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '</title><script>alert(1)</script>',
    '</style><script>alert(1)</script>',
    '<a href="javascript:alert(1)">click</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    '{{constructor.constructor("alert(1)")()}}',
    '<details open ontoggle=alert(1)>',
    '[link](javascript:alert(1))',
  ];

  it('is rendered inert on the page, in the feeds and in the API', async () => {
    for (const v of VECTORS) await json(await admin('/incidents', { body: { name: v.slice(0, 200), body: `${v}\n${v}` } }), 201);
    const html = await (await send(new Request(`${BASE}/`))).text();
    expect(html).not.toMatch(/<(script|img|svg|iframe|math|details open)\b/i);
    // No real tag carries an event handler (the words may appear as escaped text).
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i);
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('&lt;script>alert(1)&lt;/script>');
    const atom = await (await send(new Request(`${BASE}/history.atom`))).text();
    expect(atom).not.toMatch(/<(script|img|svg|iframe)\b/i);
    const api = await publicJson<{ incidents: { name: string }[] }>('/api/v2/incidents.json');
    // JSON carries the text as it was written: escaping is the renderer's job, and the text is intact.
    expect(api.incidents.map((i) => i.name)).toContain('<script>alert(1)</script>');
  });
});
