// Cluster peers on real parts: two Alertmanagers gossiping on loopback. While both run, nothing is
// missing; once one stops, the other notices and the probe reports one peer missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerProbe } from '../../agent/probes/alertmanager.ts';
import { ALERTMANAGER_BIN, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { requireBinary } from '../support/requirement.ts';

const am = requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager');
const CONFIG = 'route: { receiver: none }\nreceivers: [{ name: none }]\n';

describe.skipIf(!am.available)(`Alertmanager cluster peers${am.available ? '' : ` (skipped: ${am.reason})`}`, () => {
  let first: RunningAlertmanager;
  let second: RunningAlertmanager;
  beforeAll(async () => {
    const [a, b] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    [first, second] = await Promise.all([
      startAlertmanager(CONFIG, { listen: a, peers: [b] }),
      startAlertmanager(CONFIG, { listen: b, peers: [a] }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  const missing = async (clusterSize?: number) => {
    const signals = await alertmanagerProbe({
      name: 'alertmanager',
      url: first.url,
      timeoutS: 2,
      clusterSize,
      silenceMaxAgeS: null,
      labels: {},
    }).collect();
    return signals.find((s) => s.name === 'alertmanager.cluster.peers_missing');
  };

  it('reports no peer missing while the cluster is whole', async () => {
    const whole = await waitFor('the cluster to form', async () => ((await missing(2))?.value === 0 ? true : undefined), 30_000, 500);
    expect(whole).toBe(true);
    expect(await missing(3)).toMatchObject({ kind: 'dropped', value: 1, unit: 'peers', error: null });
  }, 40_000);

  it('reports a peer missing once it is gone', async () => {
    // The same probe object remembers the most members it saw: no cluster_size needed.
    const probe = alertmanagerProbe({
      name: 'alertmanager',
      url: first.url,
      timeoutS: 2,
      clusterSize: undefined,
      silenceMaxAgeS: null,
      labels: {},
    });
    expect((await probe.collect()).find((s) => s.name === 'alertmanager.cluster.peers_missing')?.value).toBe(0);
    await second.stop();
    await waitFor(
      'one peer missing',
      async () => ((await probe.collect()).find((s) => s.name === 'alertmanager.cluster.peers_missing')?.value === 1 ? true : undefined),
      60_000,
      1000,
    );
  }, 70_000);
});
