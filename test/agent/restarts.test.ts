// Restarts told apart from outages: a new process_start_time_seconds is a new process, whose counters
// are read from a new baseline (the jump, and what a clean shutdown and start dropped, are not
// losses), and restarts within ten minutes are counted so a restart loop shows. On a real Prometheus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deltas, RESTART_MEMORY_MS, Restarts } from '../../agent/probes/counters.ts';
import { prometheusProbe } from '../../agent/probes/prometheus.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

describe('restarts and counters', () => {
  it('counts a changed start time as a restart, never the first reading or a missing one', () => {
    let now = 0;
    const r = new Restarts(() => now);
    expect(r.observe(100)).toBe(false);
    expect(r.observe(100)).toBe(false);
    expect(r.observe(undefined)).toBe(false);
    expect(r.observe(Number.NaN)).toBe(false);
    now = 60_000;
    expect(r.observe(160)).toBe(true);
    now = 120_000;
    expect(r.observe(220)).toBe(true);
    expect(r.recent()).toBe(2);
    now = 60_000 + RESTART_MEMORY_MS;
    expect(r.recent()).toBe(1);
    now = 120_000 + RESTART_MEMORY_MS;
    expect(r.recent()).toBe(0);
  });

  it('reads every counter from a new baseline after a reset', () => {
    const d = new Deltas();
    d.next('a', 10);
    expect(d.next('a', 15)).toBe(5);
    d.reset();
    expect(d.next('a', 40)).toBe(0);
    expect(d.next('a', 41)).toBe(1);
  });
});

const prometheusBin = requireBinary(PROMETHEUS_BIN, 'prometheus');

describe.skipIf(!prometheusBin.available)(
  `a Prometheus restart${prometheusBin.available ? '' : ` (skipped: ${prometheusBin.reason})`}`,
  () => {
    let prometheus: RunningPrometheus;
    beforeAll(async () => {
      prometheus = await startPrometheus({ scrapeIntervalS: 1 });
    }, 60_000);
    afterAll(async () => {
      await prometheus?.stop();
    });

    it('is counted once, and its counters start again at 0 rather than jumping', async () => {
      const probe = prometheusProbe({
        name: 'prometheus',
        url: prometheus.url,
        timeoutS: 2,
        freshness: [],
        remoteWrite: 'auto',
        labels: {},
        alertRules: null,
      });
      const value = (signals: { name: string; value: number | null }[], name: string) => signals.find((s) => s.name === name)?.value;
      expect(value(await probe.collect(), 'prometheus.restarts')).toBe(0);
      await prometheus.restart();
      const after = await probe.collect();
      expect(value(after, 'prometheus.restarts')).toBe(1);
      for (const name of ['prometheus.notifications.dropped', 'prometheus.rules.failed', 'prometheus.scrape.limit_exceeded'])
        expect(value(after, name), name).toBe(0);
      expect(value(await probe.collect(), 'prometheus.restarts')).toBe(1);
    }, 60_000);
  },
);
