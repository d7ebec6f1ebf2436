// Atlassian's own Statuspage widget (@statuspage/status-widget), embedded on another origin and run
// in real Chromium against the Worker under wrangler dev: it reads /api/v2/summary.json as it reads
// any Statuspage. With a fresh agent it says "All Systems Operational" (the control); once the only
// agent has stopped on purpose it must not.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../protocol/signature.ts';
import { chromiumNeed, launchChromium } from '../support/chromium.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';

const need = chromiumNeed;
const secret = generateSecret();
const WIDGET = readFileSync(createRequire(import.meta.url).resolve('@statuspage/status-widget/dist/index.js'), 'utf8');

const CONFIG = {
  components: [{ id: 'metrics', name: 'Metrics pipeline' }],
  defaults: { component: 'metrics' },
  monitors: [{ id: 'metrics-fresh', signal: 'metrics.freshness', kind: 'freshness' }],
};

let worker: TestWorker;
let embedder: Server;
let embedderUrl: string;
let browser: Browser;
let seq = 0;

async function heartbeat(stopping: boolean): Promise<void> {
  const body = JSON.stringify({
    v: 1,
    seq: ++seq,
    boot: 'widget-boot',
    sent_at: new Date().toISOString(),
    interval_s: 120,
    grace_s: 10,
    signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 3, unit: 's', error: null }],
    ...(stopping ? { stopping: true } : {}),
  });
  const id = `msg_widget_${seq}`;
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${worker.url}/v1/agents/solo/heartbeats`, {
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

/** What the widget renders, read in a fresh browser context (no cache carried over). */
async function widgetText(): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(embedderUrl, { waitUntil: 'load' });
    // Playwright's CSS locators pierce the widget's open shadow root.
    const text = page.locator('statuspage-widget .status-text');
    await text.waitFor({ state: 'attached', timeout: 15_000 });
    await expect.poll(async () => (await text.textContent())?.trim() ?? '', { timeout: 15_000 }).not.toBe('');
    return ((await text.textContent()) ?? '').trim();
  } finally {
    await context.close();
  }
}

describe.skipIf(!need.available)(`Atlassian's status widget${need.available ? '' : ` (skipped: ${need.reason})`}`, () => {
  beforeAll(async () => {
    worker = await startTestWorker('widget', {
      BLINDSPOT_CONFIG: JSON.stringify(CONFIG),
      BLINDSPOT_AGENT_SECRETS: JSON.stringify({ solo: [secret] }),
    });
    // Another origin, as a customer's site embedding the widget would be.
    embedder = createServer((req, res) => {
      if (req.url === '/widget.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(WIDGET);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html><body><statuspage-widget src="${worker.url}" appearance="basic"></statuspage-widget><script src="/widget.js"></script></body></html>`,
      );
    });
    await new Promise<void>((resolve) => embedder.listen(0, '127.0.0.1', resolve));
    embedderUrl = `http://127.0.0.1:${(embedder.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => embedder?.close(resolve));
    await worker?.stop();
  });

  it('says "All Systems Operational" for a fresh agent (the control)', async () => {
    await heartbeat(false);
    expect(await widgetText()).toBe('All Systems Operational');
  });

  it('does not, once the only agent stopped on purpose', async () => {
    await heartbeat(true);
    const text = await widgetText();
    expect(text).not.toMatch(/operational/i);
    expect(text).toBe('Status Not Verified: monitoring was stopped on purpose');
  });
});
