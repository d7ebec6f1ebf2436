// A failed configuration reload on a real Alertmanager: the old configuration keeps running, so
// routes and receivers changed since do not apply. The probe says so until a reload succeeds.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerProbe } from '../../agent/probes/alertmanager.ts';
import { ALERTMANAGER_BIN, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { requireBinary } from '../support/requirement.ts';

const am = requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager');

describe.skipIf(!am.available)(`Alertmanager configuration reloads${am.available ? '' : ` (skipped: ${am.reason})`}`, () => {
  let server: RunningAlertmanager;
  beforeAll(async () => {
    server = await startAlertmanager('route: { receiver: none }\nreceivers: [{ name: none }]\n');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const reloadFailed = async (url = server.url) =>
    (
      await alertmanagerProbe({
        name: 'alertmanager',
        url,
        timeoutS: 2,
        clusterSize: undefined,
        silenceMaxAgeS: null,
        labels: {},
      }).collect()
    ).find((s) => s.name === 'alertmanager.config.reload_failed');

  it('reports 0 while the last reload worked, 1 after one failed, and 0 again once one works', async () => {
    expect(await reloadFailed()).toMatchObject({ kind: 'dropped', value: 0, error: null });
    const file = join(server.dir, 'alertmanager.yml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, 'route: { receiver: nobody-by-that-name }\nreceivers: [{ name: none }]\n');
    server.signal('SIGHUP');
    await waitFor('the reload to fail', async () => ((await reloadFailed())?.value === 1 ? true : undefined), 15_000, 200);
    writeFileSync(file, good);
    server.signal('SIGHUP');
    await waitFor('the reload to work', async () => ((await reloadFailed())?.value === 0 ? true : undefined), 15_000, 200);
  });

  it('reports an unreachable Alertmanager as unknown, never as 0', async () => {
    const signal = await reloadFailed(`http://127.0.0.1:${await freePort()}`);
    expect(signal?.value).toBeNull();
    expect(signal?.error).toMatch(/Alertmanager/);
  });
});
