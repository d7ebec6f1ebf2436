// Remote-write lag on real parts: one Prometheus remote-writes to another (its remote-write receiver).
// While the receiver takes the samples the lag is a scrape interval or so; once it is stopped, the lag
// grows with every heartbeat instead of vanishing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusProbe } from '../../agent/probes/prometheus.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

const prometheus = requireBinary(PROMETHEUS_BIN, 'prometheus');

describe.skipIf(!prometheus.available)(
  `remote-write lag against real Prometheus${prometheus.available ? '' : ` (skipped: ${prometheus.reason})`}`,
  () => {
    let receiver: RunningPrometheus;
    let sender: RunningPrometheus;
    beforeAll(async () => {
      receiver = await startPrometheus({ remoteWriteReceiver: true });
      sender = await startPrometheus({ remoteWriteUrl: `${receiver.url}/api/v1/write` });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([sender?.stop(), receiver?.stop()]);
    });

    const lagOf = async (remoteWrite: boolean | 'auto' = 'auto') => {
      const signals = await prometheusProbe({
        name: 'prometheus',
        url: sender.url,
        timeoutS: 2,
        freshness: [],
        remoteWrite,
        labels: {},
        alertRules: null,
      }).collect();
      return signals.filter((s) => s.name === 'prometheus.remote_write.lag');
    };

    it('reports the lag of each remote-write queue, small while the receiver keeps up', async () => {
      const [lag] = await waitFor(
        'samples sent',
        async () => {
          const l = await lagOf();
          return l.length === 1 && (l[0]?.value ?? Number.POSITIVE_INFINITY) < 5 ? l : undefined;
        },
        30_000,
        500,
      );
      expect(lag).toMatchObject({ kind: 'queue_age', unit: 's', error: null, labels: { source: 'prometheus', remote: 'replica' } });
    }, 40_000);

    it('lets the lag grow once the receiver is gone', async () => {
      await receiver.stop();
      const grown: Signal = await waitFor(
        'the lag to grow past 5 s',
        async () => {
          const [l] = await lagOf();
          return l && (l.value ?? 0) > 5 ? l : undefined;
        },
        30_000,
        1000,
      );
      expect(grown.error).toBeNull();
    }, 40_000);

    it('reports nothing without remote write, and unknown when told remote write must be there', async () => {
      const plain = await startPrometheus();
      try {
        const probe = (remoteWrite: boolean | 'auto') =>
          prometheusProbe({
            name: 'prometheus',
            url: plain.url,
            timeoutS: 2,
            freshness: [],
            remoteWrite,
            labels: {},
            alertRules: null,
          }).collect();
        expect((await probe('auto')).some((s) => s.name === 'prometheus.remote_write.lag')).toBe(false);
        expect((await probe(true)).find((s) => s.name === 'prometheus.remote_write.lag')).toMatchObject({
          value: null,
          error: expect.stringMatching(/remote_write: true, but Prometheus has no remote-write queue/),
        });
      } finally {
        await plain.stop();
      }
    }, 40_000);
  },
);
