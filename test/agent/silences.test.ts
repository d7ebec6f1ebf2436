// Silences that make the alert path blind by intent: which active silences mute every critical alert
// (pure), and the signals the Alertmanager probe sends for them against a real Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerProbe } from '../../agent/probes/alertmanager.ts';
import { type Matcher, matchersText, mutesEveryCritical, silenceSignals } from '../../agent/probes/silences.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { ALERTMANAGER_BIN, addSilence, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import { freePort } from '../support/ports.ts';
import { requireBinary } from '../support/requirement.ts';

const eq = (name: string, value: string): Matcher => ({ name, value, isRegex: false, isEqual: true });
const re = (name: string, value: string): Matcher => ({ name, value, isRegex: true, isEqual: true });
const ne = (name: string, value: string): Matcher => ({ name, value, isRegex: false, isEqual: false });

describe('a silence that mutes every critical alert', () => {
  it.each([
    ['severity="critical"', [eq('severity', 'critical')]],
    ['severity=~"critical|warning"', [re('severity', 'critical|warning')]],
    ['alertname=~".+" and severity=~"crit.*"', [re('alertname', '.+'), re('severity', 'crit.*')]],
    ['severity="critical" and team!="payments" (all but one team)', [eq('severity', 'critical'), ne('team', 'payments')]],
    ['cluster=~".*" alone (everything)', [re('cluster', '.*')]],
  ])('%s: yes', (_what, matchers) => {
    expect(mutesEveryCritical({ matchers })).toBe(true);
  });

  it.each([
    ['severity="warning"', [eq('severity', 'warning')]],
    ['alertname="DiskFull" and severity="critical" (one alert)', [eq('alertname', 'DiskFull'), eq('severity', 'critical')]],
    ['severity!="critical"', [ne('severity', 'critical')]],
    ['instance=~"db-.*" and severity="critical" (some hosts)', [re('instance', 'db-.*'), eq('severity', 'critical')]],
    ['a regex this runtime cannot read', [re('severity', '(?P<x>crit')]],
    ['a 2000-character regex', [re('severity', `critical|${'a'.repeat(2000)}`)]],
    ['no matcher at all', []],
  ])('%s: no', (_what, matchers) => {
    expect(mutesEveryCritical({ matchers })).toBe(false);
  });

  it('writes matchers as Alertmanager does', () => {
    expect(matchersText([eq('severity', 'critical'), re('team', 'a|b'), ne('env', 'dev')])).toBe(
      '{severity="critical", team=~"a|b", env!="dev"}',
    );
  });

  it('names each muting silence (first), counts them, and counts silences nobody updated within the bound', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const silence = (id: string, matchers: Matcher[], updatedAt: string, state = 'active') => ({
      id,
      status: { state },
      matchers,
      startsAt: updatedAt,
      endsAt: '2026-12-31T00:00:00Z',
      updatedAt,
      createdBy: 'sam',
      comment: 'db upgrade',
    });
    const signals = silenceSignals(
      'alertmanager',
      {},
      {
        ok: true,
        silences: [
          silence('b-broad', [re('severity', 'critical|warning')], '2026-12-01T11:00:00Z'),
          silence('a-narrow', [eq('alertname', 'DiskFull')], '2026-11-01T00:00:00Z'),
          silence('c-expired', [eq('severity', 'critical')], '2026-12-01T11:00:00Z', 'expired'),
        ],
      },
      7 * 86_400,
      now,
    );
    expect(signals.map((s) => [s.name, s.value, s.labels])).toEqual([
      [
        'alertmanager.silences.broad:b-broad',
        1,
        { created_by: 'sam', matchers: '{severity=~"critical|warning"}', ends_at: '2026-12-31T00:00:00Z' },
      ],
      ['alertmanager.silences.broad', 1, {}],
      ['alertmanager.silences.stale', 1, {}],
    ]);
  });

  it('reports silences it could not read as unknown, never as none', () => {
    const signals = silenceSignals('alertmanager', {}, { ok: false, error: 'cannot reach Alertmanager' }, 60, 0);
    expect(signals.every((s) => s.value === null && s.error === 'cannot reach Alertmanager')).toBe(true);
  });
});

const am = requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager');

describe.skipIf(!am.available)(`silences on a real Alertmanager${am.available ? '' : ` (skipped: ${am.reason})`}`, () => {
  let server: RunningAlertmanager;
  beforeAll(async () => {
    server = await startAlertmanager('route: { receiver: none }\nreceivers: [{ name: none }]\n');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const probe = (url = server.url) =>
    alertmanagerProbe({ name: 'alertmanager', url, timeoutS: 2, clusterSize: undefined, silenceMaxAgeS: 3600, labels: {} });
  const silenceSignalsOf = (signals: Signal[]) => signals.filter((s) => s.name.startsWith('alertmanager.silences.'));

  it('sees a broad critical silence, names it, and sees it gone once expired', async () => {
    expect(silenceSignalsOf(await probe().collect()).map((s) => [s.name, s.value])).toEqual([
      ['alertmanager.silences.broad', 0],
      ['alertmanager.silences.stale', 0],
    ]);
    const silenceID = await addSilence(server.url, [{ name: 'severity', value: 'critical|warning', isRegex: true, isEqual: true }]);
    const signals = silenceSignalsOf(await probe().collect());
    expect(signals[0]).toMatchObject({
      name: `alertmanager.silences.broad:${silenceID}`,
      value: 1,
      via: 'alertmanager.up',
      labels: { created_by: 'sam', matchers: '{severity=~"critical|warning"}' },
    });
    expect(signals.find((s) => s.name === 'alertmanager.silences.broad')?.value).toBe(1);
    expect((await fetch(`${server.url}/api/v2/silence/${silenceID}`, { method: 'DELETE' })).status).toBe(200);
    expect(silenceSignalsOf(await probe().collect()).map((s) => [s.name, s.value])).toEqual([
      ['alertmanager.silences.broad', 0],
      ['alertmanager.silences.stale', 0],
    ]);
  });

  it('reports an unreachable Alertmanager silences as unknown', async () => {
    const signals = silenceSignalsOf(await probe(`http://127.0.0.1:${await freePort()}`).collect());
    expect(signals.map((s) => s.value)).toEqual([null, null]);
  });
});
