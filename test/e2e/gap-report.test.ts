// The gap report end to end against the Worker under wrangler dev with a real local D1: `blindspot
// gaps` prints it as Markdown, CSV (read back by a CSV parser) and JSON, with clear errors; and the
// /gaps page in real Chromium, with JavaScript off, behind the browser's own password prompt: the
// SVG timeline has one mark per window, in time order and coloured by cause. A screenshot goes to
// test-artifacts/screenshots.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gapsQuery } from '../../cli/blindspot.ts';
import { generateSecret, sign } from '../../protocol/signature.ts';
import type { GapReportShape } from '../../worker/routes/gap-shapes.ts';
import { runBin } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { d1Query } from '../support/local-d1.ts';
import { chromiumNeed, launchChromium } from '../support/chromium.ts';
import { requireBinary } from '../support/requirement.ts';

const need = chromiumNeed;
const SHOTS = 'test-artifacts/screenshots';
const MIN = 60_000;
const B = Math.floor((Date.now() - 3 * 60 * MIN) / MIN) * MIN;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const FROM = iso(B);
const TO = iso(B + 120 * MIN);
const token = 'gap-report-e2e-token-0123456789abcdef';
const PROMTOOL_BIN = '/usr/bin/promtool';
const secret = generateSecret();
let worker: TestWorker;

const CONFIG = {
  components: [
    { id: 'metrics', name: 'Metrics pipeline' },
    { id: 'alerting', name: 'Alert path' },
  ],
  defaults: { component: 'metrics' },
  monitors: [
    { id: 'metrics-fresh', signal: 'metrics.freshness', kind: 'freshness' },
    { id: 'alerts-dropped', signal: 'alerts.dropped', kind: 'dropped', component: 'alerting' },
  ],
};

/** Windows as the engine writes them: id, monitor, cause, level, start and end minutes after B. */
const WINDOWS: [string, string, string, string, string, number, number | null][] = [
  ['w-stale', 'edge', 'metrics-fresh', 'stale', 'blind', 10, 20],
  ['w-dropped', 'edge', 'alerts-dropped', 'dropped', 'blind', 25, 28],
  ['w-silent', 'edge', 'agent', 'agent_silent', 'blind', 30, 40],
  ['watchdog:gap:e2e', '*', 'watchdog', 'watchdog_gap', 'unknown', 50, 55],
  ['w-unknown', 'edge', 'metrics-fresh', 'unknown', 'unknown', 90, 100],
];

/** The heartbeats the engine heard either side of the silence; the backfill below continues them. */
const ANCHORS = JSON.stringify({ before: { boot: 'boot-e2e', seq: 0 }, after: { boot: 'boot-e2e', seq: 11 } });

const sql = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

beforeAll(async () => {
  worker = await startTestWorker('gaps', {
    BLINDSPOT_CONFIG: JSON.stringify(CONFIG),
    BLINDSPOT_AGENT_SECRETS: JSON.stringify({ edge: [secret] }),
    BLINDSPOT_ADMIN_TOKENS: JSON.stringify({ reviewer: { sha256: createHash('sha256').update(token).digest('hex'), scopes: ['read'] } }),
  });
  const statements = [
    `INSERT INTO agents (id, kind, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at) VALUES ('edge', 'agent', 'up', ${B}, 'b', 60, 60, ${B - 86_400_000}, ${B}, ${B}, ${B})`,
    `INSERT INTO agent_days (agent_id, day, monitors) VALUES ('edge', ${B - (B % 86_400_000)}, '${JSON.stringify({ 'metrics-fresh': [3600, 0, 0, 0, 0], 'alerts-dropped': [3600, 0, 0, 0, 0] })}')`,
    ...WINDOWS.map(
      ([id, agent, monitor, cause, level, from, to]) =>
        `INSERT INTO windows (id, agent_id, monitor, component, severity, cause, level, signal, started_at, confirmed_at, notified_at, ended_at, peak_value, suppressed_by, anchors) VALUES (${[id, agent, monitor, monitor === 'alerts-dropped' ? 'alerting' : 'metrics', 'critical', cause, level, null, B + from * MIN, B + from * MIN + MIN, null, to === null ? null : B + to * MIN, null, null, monitor === 'agent' ? ANCHORS : null].map(sql).join(', ')})`,
    ),
    `INSERT INTO incidents (id, name, status, impact, components, source, started_at, created_at, updated_at, monitoring_at, resolved_at) VALUES ('i1', 'Metrics delayed', 'resolved', 'minor', '["metrics"]', 'admin', ${B + 9 * MIN}, ${B}, ${B}, NULL, ${B + 22 * MIN})`,
    `INSERT INTO maintenances (id, kind, name, body, components, agents, monitors, scheduled_for, scheduled_until, completed_at, author, created_at, updated_at) VALUES ('m1', 'maintenance', 'Prometheus upgrade', '', '["metrics"]', '["*"]', '["*"]', ${B + 105 * MIN}, ${B + 115 * MIN}, NULL, 'e2e', ${B}, ${B})`,
  ];
  d1Query(worker.persistTo, statements.join('; '));
  // The link was down 30–40 min: the agent backfills what it spooled, signed, through the real route.
  const heartbeats = Array.from({ length: 10 }, (_, i) => ({
    v: 1,
    seq: i + 1,
    boot: 'boot-e2e',
    sent_at: iso(B + (30 + i) * MIN),
    interval_s: 60,
    signals: [
      { name: 'metrics.freshness', kind: 'freshness', value: i < 5 ? 5 : 900, error: null },
      { name: 'alerts.dropped', kind: 'dropped', value: 0, error: null },
    ],
  }));
  const body = JSON.stringify({ v: 1, heartbeats });
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${worker.url}/v1/agents/edge/backfill`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_backfill_e2e',
      'webhook-timestamp': String(ts),
      'webhook-signature': await sign([secret], 'msg_backfill_e2e', ts, body),
    },
    body,
  });
  expect(res.status, await res.text()).toBe(202);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  runBin('bin/blindspot.js', ['gaps', '--from', FROM, '--to', TO, ...args], {
    BLINDSPOT_WORKER_URL: worker.url,
    BLINDSPOT_ADMIN_TOKEN: token,
    ...env,
  });

describe('blindspot gaps', () => {
  it('prints the report as JSON, with the blindness the backfill shows inside the link outage', async () => {
    const r = await cli(['--format', 'json', '--tz', 'Europe/Berlin']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as GapReportShape;
    expect(report.range.time_zone).toBe('Europe/Berlin');
    const ids = report.windows.map((w) => w.id);
    // The backfilled freshness went bad at 35 min: the replay found a stale window the live watchdog never saw.
    expect(ids).toEqual([
      'w-stale',
      'w-dropped',
      'w-silent',
      `edge:metrics-fresh:${B + 35 * MIN}:backfill`,
      'watchdog:gap:e2e',
      'w-unknown',
    ]);
    const silent = report.windows.find((w) => w.id === 'w-silent')!;
    expect(silent.verdict).toBe('link_outage');
    expect(silent.explanation).toMatch(/backfilled heartbeats show the monitoring blind too/);
    expect(report.link_outages).toEqual([expect.objectContaining({ agent: 'edge', heartbeats: 10, monitoring: 'blind' })]);
  });

  it('prints CSV a parser reads back, every page of it', async () => {
    const r = await cli(['--format', 'csv', '--component', 'metrics']);
    expect(r.code).toBe(0);
    const rows = parseCsv(r.stdout, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
    expect(rows.map((x) => x.id)).toEqual([
      'w-stale',
      'w-silent',
      `edge:metrics-fresh:${B + 35 * MIN}:backfill`,
      'watchdog:gap:e2e',
      'w-unknown',
    ]);
    expect(rows[0]).toMatchObject({ started_at: iso(B + 10 * MIN), ended_at: iso(B + 20 * MIN), duration_s: '600', verdict: 'blind' });
  });

  it('prints Markdown by default, ready for a postmortem', async () => {
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^### Monitoring gaps, /);
    expect(r.stdout).toContain('| Pipeline | Coverage |');
    expect(r.stdout).toContain(`| ${iso(B + 10 * MIN)} | ${iso(B + 20 * MIN)} | 10 min | blind | edge | metrics-fresh | stale |`);
  });

  it('says what is wrong with the options (exit 2) or what the Worker refused (exit 1)', async () => {
    expect(await cli(['--format', 'xlsx'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--format is md, csv or json, not "xlsx"'),
    });
    expect(await cli(['--from', 'yesterday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--from "yesterday" is not a time'),
    });
    const zone = await cli(['--tz', 'Mars/Olympus']);
    expect(zone.code).toBe(1);
    expect(zone.stderr).toMatch(/tz: "Mars\/Olympus" is not a time zone.*\(HTTP 400, invalid_query\)/);
    const noToken = await cli([], { BLINDSPOT_ADMIN_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/HTTP 401, bad_credentials/);
  });

  it('turns a duration into a time that far back', () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const q = gapsQuery([], { from: '6h', agent: ['edge', 'db-*'] }, now).query;
    expect(q.get('from')).toBe('2026-11-22T06:00:00.000Z');
    expect(q.getAll('agent')).toEqual(['edge', 'db-*']);
  });
});

describe.skipIf(!need.available)(`the /gaps page in Chromium${need.available ? '' : ` (skipped: ${need.reason})`}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('asks for credentials, then draws one mark per window in time order, coloured by cause, with JavaScript off', async () => {
    // Without credentials the answer is the challenge that makes a browser prompt (headless Chromium cannot show one).
    const refused = await fetch(`${worker.url}/gaps`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="Blindspot gap report"/);

    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 1280, height: 900 },
      httpCredentials: { username: 'reviewer', password: token },
    });
    const page = await context.newPage();
    const res = await page.goto(`${worker.url}/gaps?from=${FROM}&to=${TO}`);
    expect(res?.status()).toBe(200);
    await expect(page.locator('.verdict').textContent()).resolves.toMatch(/^Monitoring was blind /);
    const marks = page.locator('svg.timeline rect.win');
    await expect(marks.count()).resolves.toBe(6);
    const boxes = await marks.evaluateAll((els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        return {
          id: el.getAttribute('data-window'),
          x: r.x,
          width: r.width,
          fill: getComputedStyle(el).fill,
          title: el.querySelector('title')?.textContent ?? '',
        };
      }),
    );
    const byId = new Map(boxes.map((b) => [b.id, b]));
    const stale = byId.get('w-stale')!;
    const unknown = byId.get('w-unknown')!;
    // 10 min at 10 minutes in, 10 min at 90: the same width, eight widths apart.
    expect(Math.abs(stale.width - unknown.width)).toBeLessThan(1);
    expect((unknown.x - stale.x) / stale.width).toBeCloseTo(8, 1);
    // Coloured by cause: stale, dropped and silence differ; the silence that was a link outage is drawn as such.
    expect(
      new Set([stale.fill, byId.get('w-dropped')!.fill, byId.get('w-silent')!.fill, unknown.fill, byId.get('watchdog:gap:e2e')!.fill]).size,
    ).toBe(5);
    expect(stale.fill).toBe('rgb(194, 65, 12)');
    expect(stale.title).toContain('Monitoring was blind: metrics-fresh on edge');
    // Incidents and maintenance are drawn behind the lanes, each with its title.
    await expect(page.locator('svg.timeline rect.band-incident title').textContent()).resolves.toContain('Metrics delayed');
    await expect(page.locator('svg.timeline rect.band-maint title').textContent()).resolves.toContain('Prometheus upgrade');
    await expect(page.locator('table tbody tr').count()).resolves.toBeGreaterThanOrEqual(6);
    await page.screenshot({ path: join(SHOTS, 'gap-report.png'), fullPage: true });
    await context.close();
  });
});

// The same Worker's /metrics, as Prometheus would scrape it with a read-scoped token, checked by
// promtool itself (the Debian package's).
const promtool = requireBinary(PROMTOOL_BIN, 'prometheus');

describe.skipIf(!promtool.available)(`GET /metrics${promtool.available ? '' : ` (skipped: ${promtool.reason})`}`, () => {
  it('is the Prometheus text format promtool accepts, lint included', async () => {
    const res = await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^blindspot_agent_state\{agent="edge",state="[a-z_]+"\} 1$/m);
    const checked = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  });
});
