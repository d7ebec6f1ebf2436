import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusFreshnessProbe } from '../../agent/probes/prometheus-freshness.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

const prometheus = requireBinary(PROMETHEUS_BIN, 'prometheus');

describe.skipIf(!prometheus.available)(`the Prometheus freshness probe against real Prometheus${prometheus.available ? '' : ` (skipped: ${prometheus.reason})`}`, () => {
  let server: RunningPrometheus;
  beforeAll(async () => {
    server = await startPrometheus({ scrapeIntervalS: 1 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const probe = (selector: string, url = server.url) => prometheusFreshnessProbe({ name: 'metrics.freshness', url, selector, timeoutS: 2, labels: { pipeline: 'self' } });

  it('measures the age of the newest sample of a scraped series', async () => {
    const [signal] = await waitFor('a first scrape', async () => {
      const signals = await probe('up{job="self"}').collect();
      return signals[0]?.value !== null ? signals : undefined;
    }, 15_000);
    expect(signal).toMatchObject({ name: 'metrics.freshness', kind: 'freshness', unit: 's', error: null, labels: { source: 'prometheus', pipeline: 'self' } });
    // Scraped every second: the newest sample is a few seconds old at most.
    expect(signal?.value).toBeGreaterThanOrEqual(0);
    expect(signal?.value).toBeLessThan(5);
  });

  it('reports a selector that matches nothing as unknown, not as fresh', async () => {
    const [signal] = await probe('up{job="no-such-job"}').collect();
    expect(signal?.value).toBeNull();
    expect(signal?.error).toMatch(/matched no series/);
  });

  it('reports an invalid selector as unknown with Prometheus\'s error', async () => {
    const [signal] = await probe('up{').collect();
    expect(signal?.value).toBeNull();
    expect(signal?.error).toMatch(/query failed \(HTTP 400\)/);
  });

  it('reports an unreachable Prometheus as unknown, never as 0', async () => {
    const [signal] = await probe('up', `http://127.0.0.1:${await freePort()}`).collect();
    expect(signal?.value).toBeNull();
    expect(signal?.error).toMatch(/cannot reach Prometheus/);
  });
});
