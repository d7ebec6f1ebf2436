// The status page in real Chromium (Debian's, driven by playwright-core, launched offline) against
// the Worker under wrangler dev with a real local D1: all operational, a page left open greying by
// itself at the deadline, one agent silent (grey, not green), an active incident, maintenance in progress, 320 px wide, dark mode, and D1 failing
// (snapshot banner). Screenshots go to test-artifacts/screenshots; the bytes each visit transfers
// are counted by the browser itself.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { d1Query } from '../support/local-d1.ts';
import { chromiumNeed, launchChromium } from '../support/chromium.ts';

const need = chromiumNeed;
const SHOTS = 'test-artifacts/screenshots';
/** The page's budget for everything a first visit transfers. */
const BUDGET_BYTES = 30 * 1024;

const edge = generateSecret();
const flaky = generateSecret();
const token = 'browser-test-admin-token-0123456789abcdef';
let worker: TestWorker;
let browser: Browser;

const CONFIG = {
  components: [
    { id: 'api', name: 'Public API', group: 'Services' },
    { id: 'web', name: 'Website', group: 'Services' },
    { id: 'metrics', name: 'Metrics pipeline', description: 'Prometheus and the remote-write path' },
  ],
  defaults: { component: 'metrics' },
  monitors: [
    { id: 'api-fresh', signal: 'api.freshness', kind: 'freshness', component: 'api' },
    { id: 'web-fresh', signal: 'web.freshness', kind: 'freshness', component: 'web' },
    { id: 'metrics-fresh', signal: 'metrics.freshness', kind: 'freshness' },
  ],
  notifications: { public_url: 'https://status.example.test/' },
};

let seq = 0;
async function heartbeat(agent: string, secret: string, signals: string[], intervalS: number): Promise<void> {
  const body = JSON.stringify({
    v: 1,
    seq: ++seq,
    boot: `browser-${agent}`,
    sent_at: new Date().toISOString(),
    interval_s: intervalS,
    grace_s: 1,
    signals: signals.map((name) => ({ name, kind: 'freshness', value: 3, unit: 's', error: null })),
  });
  const id = `msg_${agent}_${seq}`;
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${worker.url}/v1/agents/${agent}/heartbeats`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': await sign([secret], id, ts, body),
    },
    body,
  });
  expect(res.status, await res.text()).toBe(202);
}

async function admin(path: string, body: unknown): Promise<Record<string, { id: string }>> {
  const res = await fetch(`${worker.url}/v1/admin${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as Record<string, { id: string }>;
}

/** Opens the page in a fresh context and counts every response's bytes on the wire (CDP). */
async function visit(
  name: string,
  options: { width?: number; dark?: boolean } = {},
): Promise<{ page: Page; bytes: number; requests: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1024, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const requests: string[] = [];
  cdp.on('Network.requestWillBeSent', (e) => requests.push(e.request.url));
  cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));
  const res = await page.goto(`${worker.url}/`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  return { page, bytes, requests };
}

const stateOf = (page: Page, id: string) => page.locator(`#component-${id} .state`).first();

describe.skipIf(!need.available)(`the status page in Chromium${need.available ? '' : ` (skipped: ${need.reason})`}`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    worker = await startTestWorker('browser', {
      BLINDSPOT_CONFIG: JSON.stringify(CONFIG),
      BLINDSPOT_AGENT_SECRETS: JSON.stringify({ edge: [edge], flaky: [flaky] }),
      BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
        browser: { sha256: createHash('sha256').update(token).digest('hex'), scopes: ['read', 'write'] },
      }),
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  it('all operational: green, verified, in one small request and nothing third-party', async () => {
    await heartbeat('edge', edge, ['api.freshness', 'web.freshness', 'metrics.freshness'], 120);
    const { page, bytes, requests } = await visit('all-operational');
    await expect(page.locator('.overall').textContent()).resolves.toBe('All systems operational, and verified.');
    for (const id of ['api', 'web', 'metrics']) await expect(stateOf(page, id).textContent()).resolves.toBe('Operational');
    await expect(page.locator('#component-api .meta time').first().textContent()).resolves.toMatch(/^\d+ s ago$/);
    // Groups: the two services under one heading.
    await expect(page.locator('li.group > .name').textContent()).resolves.toBe('Services');
    await expect(page.locator('li.group #component-web').count()).resolves.toBe(1);
    // 90 bars per component; the days before this test have no data and are drawn as such.
    await expect(page.locator('#component-metrics .bars i').count()).resolves.toBe(90);
    await expect(page.locator('#component-metrics .bars i').first().getAttribute('title')).resolves.toMatch(/: no data$/);
    expect(requests.every((u) => u.startsWith(worker.url))).toBe(true);
    expect(requests).toHaveLength(1);
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    await page.context().close();
  });

  it('left open, the page turns grey by itself once the evidence behind its green runs out', async () => {
    // flaky feeds the website too, at a 3 s interval and 1 s grace: its deadline is 4 s away.
    await heartbeat('flaky', flaky, ['web.freshness'], 3);
    const { page } = await visit('left-open');
    await expect(stateOf(page, 'web').textContent()).resolves.toBe('Operational');
    const reload = Number(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'));
    expect(reload).toBeGreaterThanOrEqual(2);
    expect(reload).toBeLessThanOrEqual(5);
    // Nobody reloads it here: the page's own reload, just after the deadline, is what must grey it.
    await page.waitForFunction(() => document.querySelector('#component-web .state')?.textContent === 'Unverified', null, {
      timeout: 15_000,
      polling: 250,
    });
    await expect(page.locator('.overall').textContent()).resolves.toMatch(/^Status not verified/);
    await page.context().close();
  });

  it('one agent silent: what it fed turns grey (unverified), never green', async () => {
    await heartbeat('flaky', flaky, ['web.freshness'], 1);
    // Its deadline (1 s + 1 s grace) passes and its alarm fires in wrangler dev.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const c = (await (await fetch(`${worker.url}/api/v2/components.json`)).json()) as {
        components: { id: string; blindspot_status: string }[];
      };
      if (c.components.find((x) => x.id === 'web')?.blindspot_status === 'unverified') break;
      if (Date.now() > deadline) throw new Error('web never became unverified after its agent went silent');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { page } = await visit('one-agent-silent');
    await expect(stateOf(page, 'web').textContent()).resolves.toBe('Unverified');
    await expect(stateOf(page, 'api').textContent()).resolves.toBe('Operational');
    const grey = await page.evaluate(() => getComputedStyle(document.querySelector('#component-web .state') as Element).color);
    const green = await page.evaluate(() => getComputedStyle(document.querySelector('#component-api .state') as Element).color);
    expect(grey).toBe('rgb(92, 99, 112)');
    expect(grey).not.toBe(green);
    await expect(page.locator('.overall').textContent()).resolves.toMatch(/^Status not verified/);
    await expect(page.locator('.banner').first().textContent()).resolves.toMatch(/^Reduced visibility/);
    const [, seeing, total] =
      /Monitoring coverage: (\d+) of (\d+) monitored pipelines verified and seeing/.exec(
        (await page.locator('.coverage').textContent()) ?? '',
      ) ?? [];
    expect(Number(seeing)).toBeLessThan(Number(total));
    await page.context().close();
  });

  it('an active incident shows with its update timeline, newest first', async () => {
    const { incident } = await admin('/incidents', {
      name: 'Website slow <for some>',
      body: 'We are investigating slow pages.',
      components: ['web'],
      impact: 'minor',
    });
    await admin(`/incidents/${incident?.id}/updates`, { status: 'identified', body: 'A cache node is down.\nFailing over.' });
    const { page } = await visit('active-incident');
    const article = page.locator(`#incident-${incident?.id}`);
    await expect(article.locator('h3').textContent()).resolves.toBe('Website slow <for some>');
    await expect(article.locator('ol li strong').allTextContents()).resolves.toEqual(['Identified', 'Investigating']);
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, which keeps the line break the test reads
    await expect(article.locator('ol li .body').first().innerText()).resolves.toBe('A cache node is down.\nFailing over.');
    await page.context().close();
  });

  it('maintenance in progress: its component says so, in blue', async () => {
    const now = Date.now();
    await admin('/maintenances', {
      name: 'API database upgrade',
      body: 'Expect brief errors.',
      components: ['api'],
      scheduled_for: new Date(now - 60_000).toISOString(),
      scheduled_until: new Date(now + 3_600_000).toISOString(),
    });
    const { page } = await visit('maintenance-in-progress');
    await expect(stateOf(page, 'api').textContent()).resolves.toBe('Under maintenance');
    await expect(page.locator('h2', { hasText: 'Maintenance in progress' }).count()).resolves.toBe(1);
    await page.context().close();
  });

  it('fits 320 px without sideways scrolling', async () => {
    const { page } = await visit('width-320', { width: 320 });
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.view).toBe(320);
    expect(widths.doc).toBeLessThanOrEqual(320);
    await page.context().close();
  });

  it('follows prefers-color-scheme: dark', async () => {
    const { page } = await visit('dark-mode', { dark: true });
    const colours = await page.evaluate(() => ({
      bg: getComputedStyle(document.body).backgroundColor,
      fg: getComputedStyle(document.body).color,
    }));
    expect(colours).toEqual({ bg: 'rgb(17, 20, 24)', fg: 'rgb(232, 232, 232)' });
    await page.context().close();
  });

  it('D1 failing: the page still loads (200) with the snapshot banner and the incidents it kept', async () => {
    // A real D1 fault: a table the page reads is gone from the local database under the running Worker.
    d1Query(worker.persistTo, 'DROP TABLE incident_updates');
    const { page, bytes } = await visit('d1-failing');
    await expect(page.locator('.banner.grey').first().textContent()).resolves.toMatch(
      /^Our status database is unavailable: incidents, maintenance and history are a saved copy from \d+ (s|min) ago/,
    );
    await expect(page.locator('article h3', { hasText: 'Website slow' }).count()).resolves.toBe(1);
    await expect(stateOf(page, 'web').textContent()).resolves.toBe('Unverified');
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
    const api = await fetch(`${worker.url}/api/v2/summary.json`);
    expect(api.status).toBe(200);
    expect(((await api.json()) as { page: { blindspot_snapshot: unknown } }).page.blindspot_snapshot).not.toBeNull();
    await page.context().close();
  });

  it('history.atom is well-formed XML a browser parses', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const text = await (await fetch(`${worker.url}/history.atom`)).text();
    const parsed = await page.evaluate((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      return {
        error: doc.querySelector('parsererror')?.textContent ?? null,
        titles: Array.from(doc.querySelectorAll('entry > title')).map((t) => t.textContent),
      };
    }, text);
    expect(parsed.error).toBeNull();
    expect(parsed.titles).toContain('Website slow <for some>');
    await context.close();
  });
});
