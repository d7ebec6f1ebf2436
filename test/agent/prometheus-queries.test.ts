import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusFreshnessProbe } from '../../agent/probes/prometheus-freshness.ts';
import { type PromqlOptions, promqlProbe } from '../../agent/probes/promql.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

const prometheus = requireBinary(PROMETHEUS_BIN, 'prometheus');

describe.skipIf(!prometheus.available)(
  `the freshness and PromQL probes against real Prometheus${prometheus.available ? '' : ` (skipped: ${prometheus.reason})`}`,
  () => {
    let server: RunningPrometheus;
    beforeAll(async () => {
      server = await startPrometheus({ scrapeIntervalS: 1 });
    });
    afterAll(async () => {
      await server?.stop();
    });

    const probe = (selector: string, url = server.url) =>
      prometheusFreshnessProbe({ name: 'metrics.freshness', url, selector, timeoutS: 2, labels: { pipeline: 'self' } });

    it('measures the age of the newest sample of a scraped series', async () => {
      const [signal] = await waitFor(
        'a first scrape',
        async () => {
          const signals = await probe('up{job="self"}').collect();
          return signals[0]?.value !== null ? signals : undefined;
        },
        15_000,
      );
      expect(signal).toMatchObject({
        name: 'metrics.freshness',
        kind: 'freshness',
        unit: 's',
        error: null,
        labels: { source: 'prometheus', pipeline: 'self' },
      });
      // Scraped every second: the newest sample is a few seconds old at most.
      expect(signal?.value).toBeGreaterThanOrEqual(0);
      expect(signal?.value).toBeLessThan(5);
    });

    it('reports a selector that matches nothing as unknown, not as fresh', async () => {
      const [signal] = await probe('up{job="no-such-job"}').collect();
      expect(signal?.value).toBeNull();
      expect(signal?.error).toMatch(/matched no series/);
    });

    it("reports an invalid selector as unknown with Prometheus's error", async () => {
      const [signal] = await probe('up{').collect();
      expect(signal?.value).toBeNull();
      expect(signal?.error).toMatch(/query failed \(HTTP 400\)/);
    });

    it('reports an unreachable Prometheus as unknown, never as 0', async () => {
      const [signal] = await probe('up', `http://127.0.0.1:${await freePort()}`).collect();
      expect(signal?.value).toBeNull();
      expect(signal?.error).toMatch(/cannot reach Prometheus/);
    });

    const promql = (query: string, more: Partial<PromqlOptions> = {}) =>
      promqlProbe({
        name: 'custom',
        url: server.url,
        query,
        kind: 'dropped',
        unit: 'items',
        timeoutS: 2,
        onEmpty: 'unknown',
        seriesLabels: [],
        labels: {},
        ...more,
      }).collect();
    const two = 'label_replace(vector(3), "topic", "orders", "", "") or label_replace(vector(5), "topic", "billing", "", "")';

    it('promql: one series is one signal of the chosen kind', async () => {
      expect(await promql('vector(7)', { kind: 'queue_age', unit: 's' })).toEqual([
        { name: 'custom', kind: 'queue_age', unit: 's', value: 7, error: null, labels: { source: 'promql' } },
      ]);
    });

    it('promql: several series need series_labels, and then each is a signal labelled by them', async () => {
      expect((await promql(two))[0]?.error).toMatch(/returned 2 series: aggregate it .* or list the labels .* in series_labels/);
      const signals = await promql(two, { seriesLabels: ['topic'] });
      expect(signals.map((s) => [s.labels?.topic, s.value])).toEqual([
        ['orders', 3],
        ['billing', 5],
      ]);
    });

    it('promql: an empty result is unknown unless on_empty says zero', async () => {
      expect((await promql('vector(1) > 2'))[0]).toMatchObject({
        value: null,
        error: expect.stringMatching(/returned no series \(set on_empty: zero/),
      });
      expect((await promql('vector(1) > 2', { onEmpty: 'zero' }))[0]?.value).toBe(0);
    });

    it('promql: a value outside what the kind allows is unknown, with the reason', async () => {
      expect((await promql('vector(1.5)', { kind: 'sampling' }))[0]?.error).toMatch(
        /returned 1.5, but a sampling ratio is between 0 and 1/,
      );
      expect((await promql('vector(-1)'))[0]?.error).toMatch(/a dropped count cannot be negative/);
      expect((await promql('vector(0) / 0'))[0]?.error).toMatch(/returned NaN/);
      expect((await promql('sum(rate(up[1m])'))[0]?.error).toMatch(/query failed \(HTTP 400\)/);
    });
  },
);
