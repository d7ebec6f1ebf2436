// /api/v1/gaps and /gaps on a real local D1: known windows (one backfilled through the signed route),
// the report's verdicts and hand-computed coverage, CSV read back by a real CSV parser, Markdown
// rendered by a real Markdown renderer, pagination, time zones, access, and hostile queries.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { parse as parseCsv } from 'csv-parse/sync';
import MarkdownIt from 'markdown-it';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../ui/gap-report/csv.ts';
import type { SeqAnchors } from '../../worker/core/blind-window.ts';
import { app } from '../../worker/app.ts';
import type { GapReportShape } from '../../worker/routes/gap-shapes.ts';
import { ADMIN_TOKEN, READ_TOKEN, WRITE_TOKEN } from './fixtures/channels.ts';
import { BASE, heartbeatBody, send, signedRequest } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';

const MIN = 60_000;
const AGENT = 'juliet';
/** Three hours ago, on a whole minute: the report's range is B to B + 2 h. */
const B = Math.floor((Date.now() - 3 * 60 * MIN) / MIN) * MIN;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const FROM = iso(B);
const TO = iso(B + 120 * MIN);

const get = (path: string, token: string | null = READ_TOKEN, headers: Record<string, string> = {}) =>
  send(new Request(`${BASE}${path}`, { headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } }));
const report = async (query = '') => {
  const res = await get(`/api/v1/gaps?from=${FROM}&to=${TO}${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as GapReportShape;
};

async function insert(sql: string, ...values: unknown[]) {
  await env.DB.prepare(sql)
    .bind(...values)
    .run();
}

function windowRow(
  id: string,
  monitor: string,
  cause: string,
  level: string,
  from: number,
  to: number | null,
  extra: {
    agent?: string;
    suppressed?: string | null;
    notified?: number | null;
    peak?: number | null;
    signal?: string | null;
    anchors?: SeqAnchors;
  } = {},
) {
  return insert(
    'INSERT INTO windows (id, agent_id, monitor, component, severity, cause, level, signal, started_at, confirmed_at, notified_at, ended_at, peak_value, suppressed_by, anchors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    id,
    extra.agent ?? AGENT,
    monitor,
    monitor === 'watchdog' ? 'monitoring' : 'metrics',
    'critical',
    cause,
    level,
    extra.signal ?? null,
    from,
    from + MIN,
    extra.notified ?? null,
    to,
    extra.peak ?? null,
    extra.suppressed ?? null,
    extra.anchors === undefined ? null : JSON.stringify(extra.anchors),
  );
}

beforeAll(async () => {
  await insert(
    "INSERT INTO agents (id, kind, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at) VALUES (?, 'agent', 'up', ?, 'b', 60, 60, ?, ?, ?, ?)",
    AGENT,
    B,
    B - 86_400_000,
    B,
    B,
    B,
  );
  await insert(
    'INSERT INTO agent_days (agent_id, day, monitors) VALUES (?, ?, ?)',
    AGENT,
    B - (B % 86_400_000),
    JSON.stringify({ 'metrics-fresh': [3600, 0, 0, 0, 0], 'prometheus-up': [3600, 0, 0, 0, 0] }),
  );
  await windowRow('w-stale', 'metrics-fresh', 'stale', 'blind', B + 10 * MIN, B + 20 * MIN, {
    notified: B + 11 * MIN,
    peak: 300,
    signal: 'metrics.freshness{created_by="sam", pod="api-7"}',
  });
  // The engine keeps the heartbeats heard either side of a silence; the backfill below continues them.
  await windowRow('w-silent', 'agent', 'agent_silent', 'blind', B + 30 * MIN, B + 40 * MIN, {
    anchors: { before: { boot: 'boot-gaps', seq: 0 }, after: { boot: 'boot-gaps', seq: 11 } },
  });
  await windowRow('watchdog:gap:test', 'watchdog', 'watchdog_gap', 'unknown', B + 50 * MIN, B + 55 * MIN, { agent: '*' });
  await windowRow('w-maint', 'prometheus-up', 'stale', 'blind', B + 60 * MIN, B + 70 * MIN, { suppressed: 'maintenance:m1' });
  // A signal name a spreadsheet would run as a formula; the window is still open.
  await windowRow('w-degraded', 'metrics-fresh', 'stale', 'degraded', B + 80 * MIN, null, { signal: '-1+1:cmd', peak: 150 });
  await insert(
    "INSERT INTO maintenances (id, kind, name, body, components, agents, monitors, scheduled_for, scheduled_until, completed_at, author, created_at, updated_at) VALUES ('m1', 'maintenance', 'Prometheus upgrade, \"v3\"', '', '[\"metrics\"]', '[\"*\"]', '[\"prometheus-up\"]', ?, ?, NULL, 'tests', ?, ?)",
    B + 58 * MIN,
    B + 75 * MIN,
    B,
    B,
  );
  await insert(
    "INSERT INTO incidents (id, name, status, impact, components, source, started_at, created_at, updated_at, monitoring_at, resolved_at) VALUES ('i1', 'Metrics delayed', 'resolved', 'minor', '[\"metrics\"]', 'admin', ?, ?, ?, NULL, ?)",
    B + 9 * MIN,
    B + 9 * MIN,
    B + 25 * MIN,
    B + 25 * MIN,
  );
  // Two days before the range: read for the burn rates' 3 days, but not the range's to list.
  await insert(
    "INSERT INTO incidents (id, name, status, impact, components, source, started_at, created_at, updated_at, monitoring_at, resolved_at) VALUES ('i-old', 'Earlier', 'resolved', 'minor', '[]', 'admin', ?, ?, ?, NULL, ?)",
    B - 2 * 86_400_000,
    B - 2 * 86_400_000,
    B - 2 * 86_400_000,
    B - 2 * 86_400_000 + 10 * MIN,
  );
  // The link was down 30–40 min: the agent spooled a heartbeat a minute and backfilled them, through the real signed route.
  const heartbeats = Array.from({ length: 10 }, (_, i) =>
    heartbeatBody({
      boot: 'boot-gaps',
      seq: i + 1,
      sent_at: iso(B + (30 + i) * MIN),
      interval_s: 60,
      signals: [
        { name: 'metrics.freshness', kind: 'freshness', value: 5, error: null },
        { name: 'prometheus.up', kind: 'freshness', value: 5, error: null },
      ],
    }),
  );
  const res = await send(await signedRequest(JSON.stringify({ v: 1, heartbeats }), { agent: AGENT, path: 'backfill' }));
  expect(res.status, await res.clone().text()).toBe(202);
});

describe('the gap report', () => {
  it('lists every window in the range, each with what it was', async () => {
    const r = await report();
    const byId = new Map(r.windows.map((w) => [w.id, w]));
    expect([...byId.keys()]).toEqual(['w-stale', 'w-silent', 'watchdog:gap:test', 'w-maint', 'w-degraded']);
    expect(byId.get('w-stale')).toMatchObject({
      verdict: 'blind',
      paged: true,
      started_at: iso(B + 10 * MIN),
      ended_at: iso(B + 20 * MIN),
      notified_at: iso(B + 11 * MIN),
      duration_s: 600,
      peak_value: 300,
    });
    expect(byId.get('w-silent')).toMatchObject({ verdict: 'link_outage', link_outage_s: 600 });
    expect(byId.get('w-silent')!.explanation).toMatch(/^Monitoring was fine; only the link from juliet to the watchdog was down/);
    expect(byId.get('watchdog:gap:test')).toMatchObject({ verdict: 'watchdog_gap', source: 'watchdog', watchdog_gap_s: 300 });
    expect(byId.get('w-maint')).toMatchObject({ verdict: 'expected', in_maintenance: true, paged: false });
    expect(byId.get('w-degraded')).toMatchObject({ verdict: 'degraded', ended_at: null, duration_s: 40 * 60 });
    expect(r.link_outages).toEqual([
      { agent: AGENT, started_at: iso(B + 30 * MIN), ended_at: iso(B + 40 * MIN), duration_s: 600, heartbeats: 10, monitoring: 'fine' },
    ]);
    expect(r.incidents.map((i) => i.id)).toEqual(['i1']);
    expect(r.maintenances.map((m) => m.id)).toEqual(['m1']);
    expect(r.summary.verdict).toBe(
      'Monitoring was blind 10 min in 1 window(s); the link to the watchdog was also down 1 time(s); the watchdog itself was not evaluating for 5 min.',
    );
  });

  it('computes coverage, budget and burn from the same windows, as worked out by hand', async () => {
    const r = await report('&objective=0.99');
    const metrics = r.coverage.components.find((c) => c.component === 'metrics')!;
    // 7200 s: maintenance 58–75 min pauses 1020 s; the watchdog's gap 300 s; blind 600 s (the stale
    // window; the silence was a link outage, the maintenance window is paused); 5280 s observable.
    expect(metrics).toMatchObject({
      range_s: 7200,
      no_data_s: 0,
      paused_s: 1020,
      unverified_s: 300,
      blind_s: 600,
      observable_s: 5280,
      degraded_s: 2400,
      link_outage_s: 600,
      objective: 0.99,
      met: false,
    });
    expect(metrics.coverage).toBeCloseTo(5280 / 6180, 6);
    // 1 % of 6180 s is 61.8 s; 900 s spent.
    expect(metrics.budget_s).toBe(62);
    expect(metrics.budget_spent_s).toBe(900);
    expect(metrics.budget_left_s).toBe(Math.round(61.8 - 900));
    // The last hour (60–120 min) has 15 min paused and nothing bad: burn 0.
    expect(metrics.burn_rate['1h']).toBe(0);
    expect(r.coverage.overall.blind_s).toBe(600);
  });

  it('filters by agent, monitor and cause', async () => {
    expect((await report('&monitor=metrics-*')).windows.map((w) => w.id)).toEqual(['w-stale', 'watchdog:gap:test', 'w-degraded']);
    expect((await report('&cause=agent_silent,watchdog_gap')).windows.map((w) => w.id)).toEqual(['w-silent', 'watchdog:gap:test']);
    const other = await report('&agent=nobody');
    expect(other.windows.map((w) => w.id)).toEqual(['watchdog:gap:test']);
    expect(other.coverage.components.find((c) => c.component === 'metrics')!.coverage).toBeNull();
  });

  it('writes times in the zone asked for, with its offset, for the same instants', async () => {
    const r = await report('&tz=%2B05:30');
    const w = r.windows.find((x) => x.id === 'w-stale')!;
    expect(w.started_at).toMatch(/\+05:30$/);
    expect(Date.parse(w.started_at)).toBe(B + 10 * MIN);
    expect(r.range.time_zone).toBe('+05:30');
    const berlin = await report('&tz=Europe/Berlin');
    const t = berlin.windows[0]!.started_at;
    expect(t).toMatch(/\+0[12]:00$/);
    expect(Date.parse(t)).toBe(B + 10 * MIN);
  });

  it('pages through the windows with a cursor and a Link header, each row once and in order', async () => {
    const seen: string[] = [];
    let url = `/api/v1/gaps?from=${FROM}&to=${TO}&limit=2`;
    for (let i = 0; i < 5; i++) {
      const res = await get(url);
      const body = (await res.json()) as GapReportShape;
      seen.push(...body.windows.map((w) => w.id));
      expect(body.page.total).toBe(5);
      if (body.page.next_cursor === null) {
        expect(res.headers.get('link')).toBeNull();
        break;
      }
      const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '');
      expect(link).not.toBeNull();
      url = link![1]!;
    }
    expect(seen).toEqual(['w-stale', 'w-silent', 'watchdog:gap:test', 'w-maint', 'w-degraded']);
  });

  it('gives CSV per RFC 4180 that a CSV parser reads back to the same values', async () => {
    const res = await get(`/api/v1/gaps?from=${FROM}&to=${TO}&format=csv`);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="blindspot-gaps-\d{4}-\d{2}-\d{2}\.csv"$/);
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const records = parseCsv(text, { columns: true, skip_empty_lines: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    const json = await report();
    expect(records).toHaveLength(json.windows.length);
    for (const [i, rec] of records.entries()) {
      const w = json.windows[i]!;
      expect(rec.id).toBe(w.id);
      expect(rec.started_at).toBe(w.started_at);
      expect(rec.ended_at).toBe(w.ended_at ?? '');
      expect(Number(rec.duration_s)).toBe(w.duration_s);
      expect(rec.explanation).toBe(w.explanation);
      expect(rec.paged).toBe(String(w.paged));
    }
    // Explanations hold commas: quoted, and read back whole.
    expect(records.some((r) => r.explanation!.includes(','))).toBe(true);
    // A signal that would run as a spreadsheet formula is defused.
    expect(records.find((r) => r.id === 'w-degraded')!.signal).toBe("'-1+1:cmd");
  });

  it('gives Markdown that renders to tables a postmortem can take as is', async () => {
    const res = await get(`/api/v1/gaps?from=${FROM}&to=${TO}&format=md`);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const html = new MarkdownIt().render(await res.text());
    const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
    expect(tables).toHaveLength(3); // coverage, windows, link outages
    const windowRows = tables[1]!.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    expect(windowRows).toHaveLength(1 + 5);
    // Every row has all ten cells: nothing in a cell broke the table.
    for (const row of windowRows) expect(row.match(/<t[dh]/g)).toHaveLength(10);
    expect(windowRows[1]).toContain(`<td>${iso(B + 10 * MIN)}</td>`);
    expect(html).toContain('Prometheus upgrade, “v3”'.replace('“', '&quot;').replace('”', '&quot;'));
    expect(html).toMatch(/<strong>Monitoring was blind 10 min/);
  });
});

describe('the gap report page', () => {
  it('draws the timeline in SVG, one mark per window, with no script', async () => {
    const res = await get(`/gaps?from=${FROM}&to=${TO}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data:; form-action 'self';/,
    );
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/data-window="/g)).toHaveLength(5);
    expect(html).toContain('<svg class="timeline"');
    expect(html).toContain('Monitoring was blind 10 min');
  });

  it('is linked from the status page', async () => {
    const html = await (await get('/', null)).text();
    expect(html).toContain('<a href="/gaps">');
  });

  it('answers a bad query with the form and a 400 that says what to fix, escaped', async () => {
    const res = await get('/gaps?from=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('from: &quot;&lt;script>alert(1)&lt;/script>&quot; is not an RFC 3339 time');
    expect(html).not.toContain('<script>');
  });
});

describe('access to the gap report', () => {
  it('needs an admin token with the read scope unless the deployment makes it public', async () => {
    const none = await get(`/api/v1/gaps?from=${FROM}&to=${TO}`, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="Blindspot gap report", charset="UTF-8"');
    expect((await get('/gaps', null)).status).toBe(401);
    expect((await get(`/api/v1/gaps?from=${FROM}&to=${TO}`, WRITE_TOKEN)).status).toBe(403);
    expect((await get(`/api/v1/gaps?from=${FROM}&to=${TO}`, ADMIN_TOKEN)).status).toBe(200);
    expect((await get(`/api/v1/gaps?from=${FROM}&to=${TO}`, TEST_AGENT_SECRETS.alpha[0])).status).toBe(401);
  });

  it('takes the token as the password a browser prompt sends', async () => {
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });
    expect((await get('/gaps', null, basic('reviewer', READ_TOKEN))).status).toBe(200);
    expect((await get('/gaps', null, basic('reviewer', 'wrong'))).status).toBe(401);
    expect((await get('/gaps', null, basic('', ''))).status).toBe(401);
    expect((await get('/gaps', null, { authorization: 'Basic !!!' })).status).toBe(401);
  });

  it('is open to anyone when gap_report.public is set', async () => {
    const ctx = createExecutionContext();
    const config = `${env.BLINDSPOT_CONFIG}\ngap_report: { public: true, objective: 0.995 }\n`;
    const res = await app.request(`/api/v1/gaps?from=${FROM}&to=${TO}`, {}, { ...env, BLINDSPOT_CONFIG: config }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const report = (await res.json()) as GapReportShape;
    expect(report.objective).toBe(0.995);
    // Labels can name people, pods and silences: a public report names the signal only.
    expect(report.windows.find((w) => w.id === 'w-stale')?.signal).toBe('metrics.freshness');
  });

  it('names the signal with its labels for a reader with a token', async () => {
    const report = (await (await get(`/api/v1/gaps?from=${FROM}&to=${TO}`)).json()) as GapReportShape;
    expect(report.windows.find((w) => w.id === 'w-stale')?.signal).toBe('metrics.freshness{created_by="sam", pod="api-7"}');
  });
});

describe('hostile and bad queries', () => {
  const bad = [
    ['a time without a zone', `from=2026-11-22T10:00:00&to=${TO}`, 'from'],
    ['a date that does not exist', 'from=2026-02-30T10:00:00Z&to=2026-03-02T00:00:00Z', 'from'],
    ['from after to', `from=${TO}&to=${FROM}`, 'from'],
    ['from in the future', `from=${iso(Date.now() + 3_600_000)}`, 'from'],
    ['more than 92 days', 'from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z', 'from'],
    ['a number for a time', 'from=1700000000', 'from'],
    ['a time given twice', `from=${FROM}&from=${FROM}`, 'from'],
    ['an unknown time zone', 'tz=Mars/Olympus', 'tz'],
    ['an offset past 14 h', 'tz=%2B15:00', 'tz'],
    ['an unknown format', 'format=xlsx', 'format'],
    ['a limit of zero', 'limit=0', 'limit'],
    ['a limit too large', 'limit=100000', 'limit'],
    ['a limit that is not a number', 'limit=1e3', 'limit'],
    ['an objective of 1', 'objective=1', 'objective'],
    ['an objective as a percentage', 'objective=99.9', 'objective'],
    ['an unknown cause', 'cause=aliens', 'cause'],
    ['markup in a filter', 'agent=%3Cimg%20src%3Dx%3E', 'agent'],
    ['SQL in a filter', "monitor=x'%20OR%201%3D1--", 'monitor'],
    ['too many filter values', `component=${Array.from({ length: 21 }, (_, i) => `c${i}`).join(',')}`, 'component'],
    ['a forged cursor', 'cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['a cursor that is not base64', 'cursor=%FF%FE', 'cursor'],
    ['an unknown parameter', 'start=2026-11-22T00:00:00Z', 'start'],
    ['a very long value', `agent=${'a'.repeat(5000)}`, 'agent'],
    ['a backtracking glob (twenty "*?" pairs)', `agent=${'*?'.repeat(20)}Z`, 'agent'],
  ] as const;

  it.each(bad)('answers %s with a 400 naming the parameter', async (_name, query, param) => {
    const res = await get(`/api/v1/gaps?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_query');
    expect(body.error.message.startsWith(`${param}: `)).toBe(true);
  });

  it('brings a "to" in the future back to now, and says so', async () => {
    const r = (await (await get(`/api/v1/gaps?from=${FROM}&to=${iso(Date.now() + 86_400_000)}`)).json()) as GapReportShape;
    expect(r.range.to_clamped_to_now).toBe(true);
    expect(Date.parse(r.range.to)).toBeLessThanOrEqual(Date.now());
  });

  it('changes nothing it reads', async () => {
    const count = async () =>
      (await env.DB.prepare(
        'SELECT (SELECT count(*) FROM windows) + (SELECT count(*) FROM backfilled_heartbeats) + (SELECT count(*) FROM maintenances) AS n',
      ).first<{ n: number }>())!.n;
    const before = await count();
    for (const [, query] of bad) await get(`/api/v1/gaps?${query}`);
    await get(`/api/v1/gaps?from=${FROM}&to=${TO}&format=csv`);
    expect(await count()).toBe(before);
  });
});

describe('a range another agent made busy', () => {
  it('answers a report filtered to one agent (filtered in SQL), and refuses the unfiltered one with 422 range_too_busy', async () => {
    // 20 001 closed windows of another agent inside the range: more than one report may carry.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20001)
       INSERT INTO windows (id, agent_id, monitor, cause, level, started_at, confirmed_at, ended_at)
       SELECT 'busy-' || i, 'busy-agent', 'agent', 'agent_silent', 'blind', ? + i, ? + i, ? + i + 1 FROM n`,
    )
      .bind(B + MIN, B + MIN, B + MIN)
      .run();
    try {
      const busy = await get(`/api/v1/gaps?from=${FROM}&to=${TO}`);
      expect(busy.status).toBe(422);
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('range_too_busy');
      const one = await report(`&agent=${AGENT}`);
      expect(one.windows.length).toBeGreaterThan(0);
      // The watchdog's own gaps (agent "*") concern every agent and stay in.
      expect(one.windows.every((w) => w.agent === AGENT || w.agent === '*')).toBe(true);
      const glob = await get(`/api/v1/gaps?from=${FROM}&to=${TO}&agent=jul*`);
      expect(glob.status).toBe(200);
    } finally {
      await env.DB.prepare("DELETE FROM windows WHERE agent_id = 'busy-agent'").run();
    }
  });
});
