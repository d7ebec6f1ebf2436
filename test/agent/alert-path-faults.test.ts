// Faults of the alert path that leave the monitoring alive and useless, each injected into a real
// Prometheus (the Debian package): alerts it cannot hand to an Alertmanager that does not answer,
// scrapes refused for a sample limit, and a rule group slower than its interval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusProbe } from '../../agent/probes/prometheus.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

const prometheusBin = requireBinary(PROMETHEUS_BIN, 'prometheus');
const signalNamed = (signals: Signal[], name: string) => signals.find((s) => s.name === name);
const probeOf = (url: string) =>
  prometheusProbe({ name: 'prometheus', url, timeoutS: 2, freshness: [], remoteWrite: 'auto', labels: {}, alertRules: null });

describe.skipIf(!prometheusBin.available)(
  `alert-path faults on a real Prometheus${prometheusBin.available ? '' : ` (skipped: ${prometheusBin.reason})`}`,
  () => {
    let prometheus: RunningPrometheus;
    let app: Recorder;
    beforeAll(async () => {
      // A target exposing more samples than its job's sample_limit takes.
      app = await startRecorder();
      app.answer(() => ({
        status: 200,
        body: Array.from({ length: 20 }, (_, i) => `app_series{n="${i}"} ${i}`).join('\n'),
        headers: { 'content-type': 'text/plain; version=0.0.4' },
      }));
      prometheus = await startPrometheus({
        scrapeIntervalS: 1,
        // An Alertmanager that is not there: every alert Prometheus sends fails.
        alertmanagerUrl: `http://127.0.0.1:${await freePort()}`,
        resendDelayS: 1,
        rules: 'groups: [{ name: watchdog, rules: [{ alert: Watchdog, expr: vector(1) }] }]',
        // And a target that is not there at all: down, where the app's is refused.
        scrape: [
          { job: 'app', target: new URL(app.url).host, sampleLimit: 5 },
          { job: 'gone', target: `127.0.0.1:${await freePort()}` },
        ],
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([prometheus?.stop(), app?.close()]);
    });

    it('counts alerts it could not hand to an Alertmanager that does not answer (it is discovered, not missing)', async () => {
      const p = probeOf(prometheus.url);
      await p.collect();
      const signals = await waitFor(
        'a failed notification',
        async () => {
          const s = await p.collect();
          return (signalNamed(s, 'prometheus.notifications.errors')?.value ?? 0) > 0 ? s : undefined;
        },
        30_000,
        1000,
      );
      expect(signalNamed(signals, 'prometheus.notifications.errors')).toMatchObject({ kind: 'dropped', error: null, via: 'prometheus.up' });
      expect(signalNamed(signals, 'prometheus.alertmanagers.missing')?.value).toBe(0);
    });

    it('counts scrapes refused for their sample limit, and the refused target as refused, not down', async () => {
      const p = probeOf(prometheus.url);
      await p.collect();
      const signals = await waitFor(
        'a scrape over its limit',
        async () => {
          const s = await p.collect();
          const seen = (name: string) => (signalNamed(s, name)?.value ?? 0) > 0;
          return seen('prometheus.scrape.limit_exceeded') && seen('prometheus.scrape.refused_targets') && seen('prometheus.targets_down')
            ? s
            : undefined;
        },
        30_000,
        1000,
      );
      expect(signalNamed(signals, 'prometheus.scrape.limit_exceeded')).toMatchObject({ kind: 'dropped', error: null });
      // Both targets' up is 0; the app answered, and is one refused target, not a target down besides.
      expect(signalNamed(signals, 'prometheus.scrape.refused_targets')).toMatchObject({ kind: 'dropped', value: 1, error: null });
      expect(signalNamed(signals, 'prometheus.targets_down')).toMatchObject({ value: 1, error: null });
    });
  },
);

describe('a rule group slower than its interval', () => {
  // Prometheus's own /metrics as a real 2.42 writes it, with one group taking 1.5 times its interval.
  let server: Recorder;
  beforeAll(async () => {
    server = await startRecorder();
    server.answer((req) =>
      req.url.startsWith('/api/v1/query')
        ? { status: 200, body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764590400,"0"]}]}}' }
        : {
            status: 200,
            headers: { 'content-type': 'text/plain; version=0.0.4' },
            body: [
              '# TYPE prometheus_rule_group_interval_seconds gauge',
              'prometheus_rule_group_interval_seconds{rule_group="/etc/prometheus/rules.yml;fast"} 15',
              'prometheus_rule_group_interval_seconds{rule_group="/etc/prometheus/rules.yml;slow"} 30',
              '# TYPE prometheus_rule_group_last_duration_seconds gauge',
              'prometheus_rule_group_last_duration_seconds{rule_group="/etc/prometheus/rules.yml;fast"} 0.002',
              'prometheus_rule_group_last_duration_seconds{rule_group="/etc/prometheus/rules.yml;slow"} 45.3',
              '# TYPE prometheus_rule_group_rules gauge',
              'prometheus_rule_group_rules{rule_group="/etc/prometheus/rules.yml;fast"} 3',
              'prometheus_rule_group_rules{rule_group="/etc/prometheus/rules.yml;slow"} 1',
              '# TYPE prometheus_tsdb_head_max_time gauge',
              'prometheus_tsdb_head_max_time 1.764590399e+12',
              '',
            ].join('\n'),
          },
    );
  });
  afterAll(() => server?.close());

  it('reports the slowest group’s last evaluation over its interval', async () => {
    const load = signalNamed(await probeOf(server.url).collect(), 'prometheus.rules.load');
    expect(load).toMatchObject({ kind: 'saturation', error: null });
    expect(load?.value).toBeCloseTo(45.3 / 30, 5);
  });
});

describe('just after Prometheus loads its configuration', () => {
  // Prometheus's /metrics as a real 2.42 writes it, in two states: discovery settled (an Alertmanager
  // and the app job found), and starting over just after a reload (none found, alerts dropped meanwhile).
  const QUERY_TIME = 1764590400;
  let server: Recorder;
  let settled = true;
  let reloadedAt = QUERY_TIME - 3600;
  let dropped = 0;
  const metrics = () =>
    [
      '# TYPE prometheus_config_last_reload_success_timestamp_seconds gauge',
      `prometheus_config_last_reload_success_timestamp_seconds ${reloadedAt}`,
      '# TYPE prometheus_config_last_reload_successful gauge',
      'prometheus_config_last_reload_successful 1',
      '# TYPE prometheus_notifications_alertmanagers_discovered gauge',
      `prometheus_notifications_alertmanagers_discovered ${settled ? 1 : 0}`,
      '# TYPE prometheus_notifications_dropped_total counter',
      `prometheus_notifications_dropped_total ${dropped}`,
      '# TYPE prometheus_sd_discovered_targets gauge',
      `prometheus_sd_discovered_targets{config="app",name="scrape"} ${settled ? 1 : 0}`,
      '# TYPE prometheus_tsdb_head_max_time gauge',
      `prometheus_tsdb_head_max_time ${(QUERY_TIME - 1) * 1000}`,
      '',
    ].join('\n');
  beforeAll(async () => {
    server = await startRecorder();
    server.answer((req) =>
      req.url.startsWith('/api/v1/query')
        ? { status: 200, body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[${QUERY_TIME},"0"]}]}}` }
        : { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: metrics() },
    );
  });
  afterAll(() => server?.close());

  const values = (signals: Signal[]) =>
    Object.fromEntries(
      ['prometheus.alertmanagers.missing', 'prometheus.targets.jobs_empty', 'prometheus.notifications.dropped'].map((n) => [
        n,
        signalNamed(signals, n)?.value,
      ]),
    );

  it('counts neither Alertmanagers nor jobs missing, nor alerts dropped, while discovery starts over', async () => {
    const p = probeOf(server.url);
    await p.collect(); // settled: the app job is seen, the counters take their baseline
    settled = false;
    reloadedAt = QUERY_TIME - 2;
    dropped = 4;
    expect(values(await p.collect())).toEqual({
      'prometheus.alertmanagers.missing': 0,
      'prometheus.targets.jobs_empty': 0,
      'prometheus.notifications.dropped': 0,
    });
  });

  it('counts them once the reload is RELOAD_SETTLE_S old and they are still missing', async () => {
    const p = probeOf(server.url);
    settled = true;
    reloadedAt = QUERY_TIME - 3600;
    dropped = 0;
    await p.collect();
    settled = false;
    reloadedAt = QUERY_TIME - 11;
    dropped = 4;
    expect(values(await p.collect())).toEqual({
      'prometheus.alertmanagers.missing': 1,
      'prometheus.targets.jobs_empty': 1,
      'prometheus.notifications.dropped': 4,
    });
  });
});
