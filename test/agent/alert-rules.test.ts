// Can the alerts still fire? The input series of every alerting rule, read with Prometheus's own
// grammar and asked of a real Prometheus (the Debian package) fed by a real Pushgateway; and the
// alert-path signals Prometheus's own /metrics gives: rule groups keeping up, Alertmanagers
// discovered, notification errors, configuration reloads, scrape limits, jobs gone from discovery.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config.ts';
import { cannotFireTable, ruleReports } from '../../agent/doctor.ts';
import { prometheusProbe, RELOAD_SETTLE_S } from '../../agent/probes/prometheus.ts';
import { requiredSelectors } from '../../agent/probes/rule-inputs.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import { generateSecret } from '../../protocol/signature.ts';
import { waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { PUSHGATEWAY_BIN, startPushgateway } from '../support/pushgateway.ts';
import { requireBinary } from '../support/requirement.ts';

describe('the series an alerting rule needs', () => {
  it.each([
    ['up == 0', ['up']],
    [
      'sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m])) > 0.05',
      ['http_requests_total{job="api",code=~"5.."}', 'http_requests_total{job="api"}'],
    ],
    ['max_over_time(queue_depth[10m:1m]) offset 5m > 3', ['queue_depth']],
    ['histogram_quantile(0.99, sum by (le) (rate(lat_bucket[5m]))) > 1', ['lat_bucket']],
    ['foo @ 1609746000 > 1', ['foo']],
    ['{__name__="orders_total", shop="eu"} < 1', ['{__name__="orders_total", shop="eu"}']],
  ])('%s needs its selectors', (expr, selectors) => {
    expect(requiredSelectors(expr)).toEqual({ ok: true, selectors });
  });

  it.each([
    ['absent(up{job="api"})', 'fires because the series is missing'],
    ['absent_over_time(heartbeat_seconds[5m])', 'fires because the series is missing'],
    ['vector(1)', 'reads no series (the Watchdog)'],
    ['time() - 5 > 0', 'reads no series'],
  ])('%s needs nothing: it %s', (expr) => {
    expect(requiredSelectors(expr)).toEqual({ ok: true, selectors: [] });
  });

  it('does not need what only stops an alert (right of unless) or either side of or', () => {
    expect(requiredSelectors('errors > 1 unless on(instance) maintenance_mode == 1')).toEqual({ ok: true, selectors: ['errors'] });
    expect(requiredSelectors('a > 1 or b > 1')).toEqual({ ok: true, selectors: [] });
    expect(requiredSelectors('rate(x[5m]) > 1 and absent_over_time(z[5m])')).toEqual({ ok: true, selectors: ['x'] });
  });

  it.each([
    ['an unclosed call', 'sum(rate(x[5m]', /does not parse as PromQL near character/],
    ['a matcher without a value', 'up{job=}', /does not parse as PromQL/],
    ['30 000 nested parentheses', `${'('.repeat(30_000)}up`, /at most 20000 are read/],
  ])('reports %s as a rule it cannot read, not as one that can fire', (_what, expr, error) => {
    const r = requiredSelectors(expr);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});

const prometheusBin = requireBinary(PROMETHEUS_BIN, 'prometheus');
const pushgatewayBin = requireBinary(PUSHGATEWAY_BIN, 'prometheus-pushgateway');
const available = prometheusBin.available && pushgatewayBin.available;

const RULES = `groups:
  - name: orders
    rules:
      - alert: OrdersStalled
        expr: rate(orders_processed_total[30s]) == 0
      - alert: ApiDown
        expr: absent(up{job="api"})
      - alert: NodeCpuHot
        expr: rate(node_cpu_seconds_total{mode="user"}[1m]) > 0.9
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: self
    rules:
      - alert: PrometheusDown
        expr: up{job="self"} == 0
`;

describe.skipIf(!available)(
  `the Prometheus probe's alert-path signals against real Prometheus and Pushgateway${available ? '' : ` (skipped: ${prometheusBin.reason ?? pushgatewayBin.reason})`}`,
  () => {
    let pushgateway: Awaited<ReturnType<typeof startPushgateway>>;
    let prometheus: RunningPrometheus;
    const push = (value: number) =>
      fetch(`${pushgateway.url}/metrics/job/orders`, { method: 'PUT', body: `orders_processed_total ${value}\n` });

    beforeAll(async () => {
      pushgateway = await startPushgateway();
      await push(1);
      prometheus = await startPrometheus({
        scrapeIntervalS: 1,
        rules: RULES,
        scrape: [{ job: 'pushgateway', target: pushgateway.host, honorLabels: true }],
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all([prometheus?.stop(), pushgateway?.stop()]);
    });

    const probe = () =>
      prometheusProbe({
        name: 'prometheus',
        url: prometheus.url,
        timeoutS: 2,
        freshness: [],
        remoteWrite: 'auto',
        labels: {},
        // Every run asks every selector again, over a short lookback: the test moves in seconds.
        alertRules: { lookback: '3s', recheckS: 0, maxQueries: 25 },
      });
    const named = (signals: Signal[]) =>
      signals
        .filter((s) => s.name.startsWith('prometheus.rules.unfireable:'))
        .map((s) => [s.name, s.labels?.group, s.labels?.missing])
        .sort();
    const countOf = (signals: Signal[]) => signals.find((s) => s.name === 'prometheus.rules.unfireable');

    it('names each alerting rule whose input series are gone, and counts them; absent() rules and recording rules are not judged', async () => {
      const p = probe();
      const signals = await waitFor(
        'the pushed series to be scraped',
        async () => {
          const s = await p.collect();
          return named(s).length === 1 ? s : undefined;
        },
        20_000,
      );
      expect(named(signals)).toEqual([['prometheus.rules.unfireable:NodeCpuHot', 'orders', 'node_cpu_seconds_total{mode="user"}']]);
      expect(countOf(signals)).toMatchObject({ kind: 'dropped', value: 1, error: null });
      // The named signals come first, so the window a monitor opens names a rule.
      expect(signals.findIndex((s) => s.name.startsWith('prometheus.rules.unfireable:'))).toBeLessThan(signals.indexOf(countOf(signals)!));
    });

    it('sees a rule lose its input when the metric goes away, and regain it when it comes back', async () => {
      const p = probe();
      await fetch(`${pushgateway.url}/metrics/job/orders`, { method: 'DELETE' });
      const gone = await waitFor(
        'OrdersStalled to lose its input',
        async () => {
          const s = await p.collect();
          return named(s).length === 2 ? s : undefined;
        },
        20_000,
      );
      expect(named(gone).map((n) => n[0])).toEqual(['prometheus.rules.unfireable:NodeCpuHot', 'prometheus.rules.unfireable:OrdersStalled']);
      expect(countOf(gone)?.value).toBe(2);
      await push(2);
      const back = await waitFor(
        'OrdersStalled to have its input again',
        async () => {
          const s = await p.collect();
          return named(s).length === 1 ? s : undefined;
        },
        20_000,
      );
      expect(countOf(back)?.value).toBe(1);
    });

    it('doctor lists each rule that cannot fire with its group, file and the selector that matches nothing', async () => {
      const config = parseConfig(
        {
          agent_id: 'doc',
          worker_url: 'http://127.0.0.1:1',
          secret: generateSecret(),
          probes: [{ type: 'prometheus', url: prometheus.url, alert_rules: { lookback: '5s' } }],
        },
        'agent.yaml',
        {},
      );
      const [report] = await ruleReports(config);
      expect(report?.check).toMatchObject({ name: 'prometheus.rules', ok: false });
      expect(report?.check.reason).toMatch(/^3 of 4 alerting rule\(s\) can fire; 1 cannot/);
      const table = cannotFireTable(report === undefined ? [] : [report]);
      expect(table.split('\n')[0]).toMatch(/ALERTING RULE THAT CANNOT FIRE\s+GROUP\s+FILE\s+NO SERIES FOR/);
      expect(table).toMatch(/^NodeCpuHot\s+orders\s+\S+rules\.yml\s+node_cpu_seconds_total\{mode="user"\}$/m);
      expect(table).not.toMatch(/OrdersStalled|ApiDown|PrometheusDown/);
    });

    it('measures the rest of the alert path from /metrics: nothing wrong here but the missing Alertmanager', async () => {
      // For RELOAD_SETTLE_S after Prometheus loaded its configuration, discovery is settling and nothing counts as missing.
      const p = probe();
      const signals = await waitFor(
        'discovery to have settled',
        async () => {
          const s = await p.collect();
          return s.find((x) => x.name === 'prometheus.alertmanagers.missing')?.value === 1 ? s : undefined;
        },
        (RELOAD_SETTLE_S + 10) * 1000,
        500,
      );
      const value = (name: string) => signals.find((s) => s.name === name);
      expect(value('prometheus.rules.load')).toMatchObject({ kind: 'saturation', error: null });
      expect(value('prometheus.rules.load')?.value).toBeLessThan(1);
      // This Prometheus has no alerting section: its alerts would go nowhere.
      expect(value('prometheus.alertmanagers.missing')).toMatchObject({ kind: 'dropped', value: 1 });
      expect(value('prometheus.notifications.errors')).toMatchObject({ kind: 'dropped', value: 0 });
      expect(value('prometheus.config.reload_failed')).toMatchObject({ kind: 'dropped', value: 0 });
      expect(value('prometheus.scrape.limit_exceeded')).toMatchObject({ kind: 'dropped', value: 0 });
      expect(value('prometheus.targets.jobs_empty')).toMatchObject({ kind: 'dropped', value: 0 });
    }, 40_000);

    it('sees a failed configuration reload (the old one keeps running), and a scrape job gone from discovery', async () => {
      const p = probe();
      await p.collect(); // remembers which jobs discovered targets
      const file = join(prometheus.dir, 'prometheus.yml');
      const good = readFileSync(file, 'utf8');
      writeFileSync(file, `${good}\n  - job_name: broken\n    static_configs: [{ targets: [not a target list`);
      prometheus.signal('SIGHUP');
      const failed = await waitFor(
        'the reload to fail',
        async () => {
          const s = await p.collect();
          return s.find((x) => x.name === 'prometheus.config.reload_failed')?.value === 1 ? s : undefined;
        },
        20_000,
      );
      expect(failed.find((x) => x.name === 'prometheus.config.reload_failed')).toMatchObject({ value: 1, error: null });
      // A good configuration whose pushgateway job discovers no target any more: the reload succeeds,
      // and the job, which had a target, has vanished from discovery.
      writeFileSync(file, good.replace(/(job_name: pushgateway\n.*\n) {4}static_configs:\n.*\n?/, '$1    static_configs: []\n'));
      prometheus.signal('SIGHUP');
      const reloaded = await waitFor(
        'the reload to succeed, without the target',
        async () => {
          const s = await p.collect();
          const ok = s.find((x) => x.name === 'prometheus.config.reload_failed')?.value === 0;
          return ok && s.find((x) => x.name === 'prometheus.targets.jobs_empty')?.value === 1 ? s : undefined;
        },
        20_000,
      );
      expect(reloaded.find((x) => x.name === 'prometheus.targets.jobs_empty')).toMatchObject({ value: 1, error: null });
    });
  },
);
