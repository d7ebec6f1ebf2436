// The public status page in workerd with a real local D1: honest states, history bars, security
// headers, caching, and every piece of user text escaped.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../ui/render.ts';
import type { AgentView } from '../../worker/core/agent-view.ts';
import { fireAlarm, heardAgo } from './fixtures/durable.ts';
import { BASE, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';

async function page(init: RequestInit = {}): Promise<{ html: string; res: Response }> {
  const res = await send(new Request(`${BASE}/`, init));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  return { html: await res.text(), res };
}

/** The rendered row of one agent: from its name to the end of its list item. */
function rowOf(html: string, agent: string): string {
  const start = html.indexOf(`<span class="name">${agent}</span>`);
  expect(start, `no row for ${agent}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</li>', start));
}

/** The rendered row of one component, up to its bars. */
function componentOf(html: string, id: string): string {
  const start = html.indexOf(`<li id="component-${id}">`);
  expect(start, `no component ${id}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('class="bars"', start));
}

describe('the status page', () => {
  it('is server-rendered HTML with no script, a strict CSP that allows only its own stylesheet, and feed links', async () => {
    const { html, res } = await page();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|\son[a-z]+=|javascript:/i);
    expect(html).toContain('http-equiv="refresh"');
    expect(html).toContain('<link rel="alternate" type="application/atom+xml" href="/history.atom"');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; /);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // The hash in the policy is the hash of the stylesheet the page carries.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(style)));
    expect(csp).toContain(`'sha256-${btoa(String.fromCharCode(...digest))}'`);
  });

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const { res } = await page();
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^W\/"[A-Za-z0-9+/]+"$/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=10, must-revalidate');
    // The page says "verified N s ago": the same second renders the same bytes, so the same ETag.
    const again = await send(new Request(`${BASE}/`, { headers: { 'if-none-match': etag as string } }));
    if (again.status === 200) expect(again.headers.get('etag')).not.toBe(etag);
    else {
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
    const other = await send(new Request(`${BASE}/`, { headers: { 'if-none-match': 'W/"something-else"' } }));
    expect(other.status).toBe(200);
  });

  it('shows a component nobody has data for as unverified, never operational, and says coverage is empty', async () => {
    const { html } = await page();
    // Alerting has no Alertmanager source feeding it in these tests' storage until one is sent.
    expect(componentOf(html, 'alerting')).toContain('class="state unverified">Unverified');
    expect(html).not.toContain('All systems operational');
    expect(html).toContain('Reduced visibility: some of our monitoring is degraded or not verified');
  });

  it('shows an agent that has never sent a heartbeat as not verified', async () => {
    const row = rowOf((await page()).html, 'india');
    expect(row).toContain('No heartbeat yet');
    expect(row).toContain('never verified');
  });

  it('shows a fresh pipeline as operational with the time it was verified, and counts it as covered', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 30 }), { agent: 'bravo' });
    const { html } = await page();
    expect(rowOf(html, 'bravo')).toContain('class="state operational"');
    expect(componentOf(html, 'metrics')).toMatch(
      /class="state operational">Operational<\/span> · <span class="meta">verified <time datetime="[^"]+"[^>]*>\d+ s ago<\/time>/,
    );
    expect(html).toMatch(/Monitoring coverage: (\d+) of \1 monitored pipelines verified and seeing \(100 %\)/);
  });

  it('an open page reloads itself a second after the first evidence behind it runs out, so it never stays green past a deadline', async () => {
    const reload = (html: string) => Number(/<meta http-equiv="refresh" content="(\d+)"/.exec(html)?.[1]);
    // Nothing verified yet: only the slow reload.
    expect(reload((await page()).html)).toBe(30);
    // An agent heard 4 s ago at a 5 s interval and 5 s grace: its deadline is 6 s away.
    await heardAgo('kilo', 4_000, (sent_at) => sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'kilo' }));
    const { html } = await page();
    expect(rowOf(html, 'kilo')).toContain('class="state operational"');
    const seconds = reload(html);
    expect(seconds).toBeGreaterThanOrEqual(6);
    expect(seconds).toBeLessThanOrEqual(7);
  });

  it('shows a pipeline whose deadline passed without judgement as unverified (grey), not operational', async () => {
    await heardAgo('charlie', 60_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'charlie' }),
    );
    const { html } = await page();
    expect(rowOf(html, 'charlie')).toContain('class="state unverified"');
    expect(componentOf(html, 'metrics')).not.toContain('Operational');
    expect(html).toMatch(/Monitoring coverage: \d+ of \d+ monitored pipelines/);
  });

  it('shows a silent agent as blind once its alarm has fired; what it fed is unverified, never operational', async () => {
    await heardAgo('delta', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'delta' }));
    await fireAlarm('delta');
    const { html } = await page();
    expect(rowOf(html, 'delta')).toContain('class="state blind"');
    // A silent agent proves nothing either way about the pipeline it watched: grey, not red, not green.
    expect(componentOf(html, 'metrics')).toContain('class="state unverified">Unverified');
    expect(html).toContain('class="overall unverified"');
    expect(html).toMatch(/Monitoring coverage: (\d+) of (?!\1\b)\d+ monitored pipelines/);
  });

  it("draws 90 daily bars from the agents' day rows, telling no data apart from blind, with a tooltip and a details line per bad day", async () => {
    const day = 86_400_000;
    const today = Math.floor(Date.now() / day) * day;
    const put = (agent: string, at: number, good: number, blind: number) =>
      env.DB.prepare('INSERT INTO agent_days (agent_id, day, monitors) VALUES (?, ?, ?)')
        .bind(agent, at, JSON.stringify({ 'prometheus-up': [good, 0, blind, 0, 0], 'not-a-monitor': [0, 0, 86_400, 0, 0] }))
        .run();
    // Two agents feed the component that day: their seconds add up. A monitor the configuration does not have counts for nothing.
    await put('bars', today - 3 * day, 85_800, 600);
    await put('bars-2', today - 3 * day, 86_400, 0);
    await put('bars', today - 2 * day, 86_400, 0);
    const { html } = await page();
    const start = html.indexOf('<li id="component-metrics">');
    const bars = html.slice(html.indexOf('class="bars"', start), html.indexOf('</div>', html.indexOf('class="bars"', start)));
    const cells = [...bars.matchAll(/<i class="d-([a-z_]+)" title="([^"]+)"><\/i>/g)];
    expect(cells).toHaveLength(90);
    const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(cells[86]?.[1]).toBe('blind');
    expect(cells[86]?.[2]).toBe(`${iso(today - 3 * day)}: blind 10 min`);
    expect(cells[87]?.[1]).toBe('ok');
    expect(cells[0]?.[1]).toBe('no_data');
    expect(cells[0]?.[2]).toMatch(/: no data$/);
    expect(html.slice(start)).toContain(`<li class="blind">${iso(today - 3 * day)}: blind 10 min</li>`);
  });

  it("when the watchdog's own sweeps have stopped, says so and calls nothing verified", async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 60 }), { agent: 'echo' });
    const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
    const setLastTick = (at: number) => runInDurableObject(watchdog, (_instance, state) => state.storage.put('ticks', { lastTickAt: at }));
    await setLastTick(Date.now() - 10 * 60_000);
    try {
      const { html } = await page();
      expect(html).toContain('The watchdog behind this page has stopped evaluating');
      expect(componentOf(html, 'metrics')).toContain('class="state unverified">Unverified');
      const api = await (await send(new Request(`${BASE}/api/v2/status.json`))).json<{
        page: { blindspot_watchdog_stalled: boolean };
        status: { blindspot_indicator: string };
      }>();
      expect(api.page.blindspot_watchdog_stalled).toBe(true);
      expect(api.status.blindspot_indicator).toBe('unverified');
    } finally {
      await setLastTick(Date.now());
    }
    expect((await page()).html).not.toContain('stopped evaluating');
  });

  it('escapes agent-controlled text', async () => {
    const { html } = await page();
    expect(html).not.toMatch(
      /<(?!\/?(html|head|meta|title|link|style|body|main|h1|h2|h3|p|ul|ol|li|span|br|time|footer|section|article|details|summary|div|i|strong|a)\b)[a-z]/i,
    );
  });
});

describe('the agents list of a large fleet', () => {
  it('shows at most 50 rows, those in trouble first, and counts the rest by state', () => {
    const now = Date.now();
    const view = (i: number, state: AgentView['state']): AgentView => ({
      agentId: `agent-${String(i).padStart(4, '0')}`,
      state,
      verifiedAt: now - 1000,
      deadlineAt: now + 10_000,
      blindSince: state === 'blind' ? now - 60_000 : null,
      why: state === 'unverified' ? 'heartbeat overdue' : null,
      troubled: [],
    });
    const agents = [
      ...Array.from({ length: 1000 }, (_, i) => view(i, 'operational')),
      view(1000, 'blind'),
      view(1001, 'unverified'),
      view(1002, 'stopped'),
    ];
    const html = renderStatusPage({
      title: 'Fleet',
      now,
      indicator: 'none',
      views: [],
      uptime: new Map(),
      incidents: [],
      maintenances: [],
      agents,
      snapshot: null,
      watchdogStalled: false,
      reloadS: 30,
    });
    const rows = [...html.matchAll(/<span class="name">(agent-\d{4})<\/span>/g)].map((m) => m[1]);
    expect(rows).toHaveLength(50);
    expect(rows.slice(0, 3)).toEqual(['agent-1000', 'agent-1001', 'agent-1002']);
    expect(html).toContain('Monitoring agents (1003)');
    expect(html).toContain('953 more not listed: 953 operational.');
  });
});
