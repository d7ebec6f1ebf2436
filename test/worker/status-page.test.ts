import { describe, expect, it } from 'vitest';
import { fireAlarm, shiftIntoPast } from './fixtures/durable.ts';
import { BASE, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';

async function page(): Promise<string> {
  const res = await send(new Request(`${BASE}/`));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  return res.text();
}

/** The rendered row of one agent: from its name to the end of its list item. */
function rowOf(html: string, agent: string): string {
  const start = html.indexOf(`<span class="name">${agent}</span>`);
  expect(start, `no row for ${agent}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</li>', start));
}

describe('the status page', () => {
  it('is server-rendered HTML that needs no JavaScript', async () => {
    const html = await page();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toContain('<script');
    expect(html).toContain('http-equiv="refresh"');
  });

  it('shows an agent that has never sent a heartbeat as not verified, never operational', async () => {
    const row = rowOf(await page(), 'india');
    expect(row).toContain('No heartbeat yet');
    expect(row).toContain('never verified');
    expect(row).not.toContain('operational');
  });

  it('shows a fresh agent as operational with the time it was verified', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 30 }), { agent: 'bravo' });
    const row = rowOf(await page(), 'bravo');
    expect(row).toContain('class="state operational"');
    expect(row).toMatch(/verified <time datetime="[^"]+"[^>]*>\d+ s ago<\/time>/);
  });

  it('shows an agent whose deadline passed without judgement as unverified, not operational', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5 }), { agent: 'charlie' });
    await shiftIntoPast('charlie', 60_000);
    const html = await page();
    const row = rowOf(html, 'charlie');
    expect(row).toContain('class="state unverified"');
    expect(row).toMatch(/verified <time[^>]*>60 s ago/);
    expect(html).not.toContain('All monitoring is verified');
  });

  it('shows a silent agent as blind once its alarm has fired', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5 }), { agent: 'delta' });
    await shiftIntoPast('delta', 20_000);
    await fireAlarm('delta');
    const html = await page();
    expect(rowOf(html, 'delta')).toContain('class="state blind"');
    expect(html).toContain('Monitoring is blind');
  });

  it('escapes agent-controlled text', async () => {
    const html = await page();
    expect(html).not.toMatch(/<(?!\/?(html|head|meta|title|style|body|main|h1|h2|p|ul|li|span|br|time|footer)\b)[a-z]/i);
  });
});
