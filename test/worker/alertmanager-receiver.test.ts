import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SETTLE_MS } from '../../worker/core/agent-state.ts';
import { alert, payload, TEST_ALERTMANAGER_TOKENS } from './fixtures/alertmanager.ts';
import { outboxOf, windowsOf } from './fixtures/d1.ts';
import { agentStub } from './fixtures/durable.ts';
import { BASE, errorCode, send } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';

function post(
  source: string,
  body: unknown,
  auth: string | null = `Bearer ${TEST_ALERTMANAGER_TOKENS.prod}`,
  contentType = 'application/json',
) {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth !== null) headers.authorization = auth;
  return send(
    new Request(`${BASE}/v1/alertmanager/${source}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

describe('the Alertmanager receiver', () => {
  it('takes the Watchdog alert as a heartbeat of the alert path, with a deadline', async () => {
    const res = await post('prod', payload([alert('Watchdog')]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ watchdog: true, evidence: 0 });
    const live = await agentStub('alertmanager:prod').getStatus();
    expect(live).toMatchObject({ kind: 'alert_source', agentId: 'alertmanager:prod', state: 'up', intervalS: 5, graceS: 5 });
    expect(live!.deadlineAt - live!.lastHeartbeatAt).toBe(10_000);
  });

  it('accepts basic auth whose password is the token, as http_config can send', async () => {
    const res = await post('other', payload([alert('Watchdog')]), `Basic ${btoa(`alertmanager:${TEST_ALERTMANAGER_TOKENS.other}`)}`);
    expect(res.status).toBe(200);
  });

  it('opens alert_path_silent when the Watchdog stops arriving past its deadline, and pages it', async () => {
    await post('prod', payload([alert('Watchdog')]));
    const live = await agentStub('alertmanager:prod').getStatus();
    // On time, it waits 250 ms for deliveries queued behind it; the alarm it sets for then judges.
    await agentStub('alertmanager:prod').ensureAlarm(live!.deadlineAt + 1);
    expect(await windowsOf('alertmanager:prod')).toEqual([]);
    expect(await agentStub('alertmanager:prod').ensureAlarm(live!.deadlineAt + 1 + SETTLE_MS)).toBe('fired');
    const [w] = await windowsOf('alertmanager:prod');
    expect(w).toMatchObject({
      monitor: 'alert_path',
      cause: 'alert_path_silent',
      component: 'alerting',
      started_at: live!.lastHeartbeatAt + 5_000,
      confirmed_at: live!.deadlineAt,
      suppressed_by: null,
    });
    expect((await outboxOf('alertmanager:prod')).map((o) => o.event_type)).toEqual(['window.opened']);
  });

  it('stores other alerts as evidence and pages none of them', async () => {
    const res = await post(
      'other',
      payload([alert('Watchdog'), alert('HighLatency'), alert('DiskFull', { status: 'resolved', endsAt: '2026-11-22T10:05:00Z' })]),
      `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`,
    );
    expect(await res.json()).toEqual({ watchdog: true, evidence: 2 });
    const { results } = await env.DB.prepare('SELECT alertname, status, ends_at FROM alert_evidence WHERE source = ? ORDER BY alertname')
      .bind('other')
      .all();
    expect(results).toEqual([
      { alertname: 'DiskFull', status: 'resolved', ends_at: Date.parse('2026-11-22T10:05:00Z') },
      { alertname: 'HighLatency', status: 'firing', ends_at: null },
    ]);
    expect(await outboxOf('alertmanager:other')).toEqual([]);
  });

  it('takes a Watchdog whose blindspot_evaluated_at is recent, and refuses one older than max_age_s (a replay) without touching the deadline', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const fresh = await post(
      'other',
      payload([alert('Watchdog', { annotations: { blindspot_evaluated_at: String(nowS - 20) } })]),
      `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`,
    );
    expect(await fresh.json()).toEqual({ watchdog: true, evidence: 0 });
    const before = await agentStub('alertmanager:other').getStatus();
    for (const [annotation, refusal] of [
      [String(nowS - 301), /evaluated 30\d s ago \(blindspot_evaluated_at\), more than max_age_s 300/],
      [String(nowS + 3600), /(3599|3600) s in the future/],
      ['1.7e+09', /evaluated \d+ s ago/],
      ['soon', /is not Unix seconds/],
    ] as const) {
      const res = await post(
        'other',
        payload([alert('Watchdog', { annotations: { blindspot_evaluated_at: annotation } })]),
        `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`,
      );
      expect(res.status, annotation).toBe(200);
      const body = (await res.json()) as { watchdog: boolean; refused: string };
      expect(body.watchdog, annotation).toBe(false);
      expect(body.refused, annotation).toMatch(refusal);
    }
    expect((await agentStub('alertmanager:other').getStatus())?.lastHeartbeatAt).toBe(before?.lastHeartbeatAt);
  });

  it('a resolved Watchdog is not a heartbeat', async () => {
    const before = await agentStub('alertmanager:other').getStatus();
    const res = await post('other', payload([alert('Watchdog', { status: 'resolved' })]), `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`);
    expect(await res.json()).toEqual({ watchdog: false, evidence: 0 });
    expect((await agentStub('alertmanager:other').getStatus())?.lastHeartbeatAt).toBe(before?.lastHeartbeatAt);
  });

  it.each([
    ['no credentials', 'prod', null, 401, 'bad_credentials'],
    ['a wrong token', 'prod', 'Bearer not-the-token-at-all', 401, 'bad_credentials'],
    ["another source's token", 'prod', `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`, 401, 'bad_credentials'],
    ['an agent secret', 'prod', `Bearer ${TEST_AGENT_SECRETS.alpha[0]}`, 401, 'bad_credentials'],
    ['a malformed basic header', 'prod', 'Basic %%%', 401, 'bad_credentials'],
    ['a source without a token', 'staging', `Bearer ${TEST_ALERTMANAGER_TOKENS.prod}`, 401, 'unknown_source'],
    ['a malformed source id', 'Prod!', `Bearer ${TEST_ALERTMANAGER_TOKENS.prod}`, 400, 'invalid_source_id'],
  ])('refuses %s', async (_what, source, auth, status, code) => {
    const res = await post(source, payload([alert('Watchdog')]), auth);
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });

  it.each([
    ['not JSON', 'not json', 400],
    ['a wrong version', { ...payload([alert('Watchdog')]), version: '3' }, 422],
    ['alerts not a list', { ...payload([]), alerts: 'x' }, 422],
    ['an alert without a fingerprint', payload([{ ...alert('Watchdog'), fingerprint: undefined }]), 422],
    ['a bad startsAt', payload([alert('Watchdog', { startsAt: 'yesterday' })]), 422],
    ['labels that are not strings', payload([alert('Watchdog', { labels: { alertname: 7 } })]), 422],
    ['an array body', [], 422],
    ['null', 'null', 422],
  ])('refuses a payload with %s and changes nothing', async (_what, body, status) => {
    const before = await agentStub('alertmanager:prod').getStatus();
    const res = await post('prod', body);
    expect(res.status).toBe(status);
    expect((await agentStub('alertmanager:prod').getStatus())?.lastHeartbeatAt).toBe(before?.lastHeartbeatAt);
  });

  it('refuses a body over 1 MiB with 413 and a non-JSON content type with 415', async () => {
    expect((await post('prod', 'x'.repeat(1024 * 1024 + 1))).status).toBe(413);
    expect((await post('prod', payload([]), undefined, 'text/plain')).status).toBe(415);
  });
});
