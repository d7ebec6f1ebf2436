import { MAX_SIGNALS, type Signal, signalKey } from '../../protocol/heartbeat.ts';
import type { ProbeConfig } from '../config.ts';
import { alertmanagerProbe } from './alertmanager.ts';
import { canaryProbe } from './canary.ts';
import { demoProbe } from './demo.ts';
import { otelCollectorProbe } from './otel-collector.ts';
import { base, measured, type Probe, readThrough } from './probe.ts';
import { prometheusProbe } from './prometheus.ts';
import { prometheusFreshnessProbe } from './prometheus-freshness.ts';
import { promqlProbe } from './promql.ts';

const DEFAULT_UNIT: Record<Signal['kind'], string> = {
  freshness: 's',
  queue_age: 's',
  sampling: 'ratio',
  dropped: 'items',
  saturation: 'ratio',
};

export function createProbe(config: ProbeConfig, agentId: string): Probe {
  const common = { name: config.name, labels: config.labels };
  switch (config.type) {
    case 'prometheus':
      return prometheusProbe({
        ...common,
        url: config.url,
        timeoutS: config.timeout_s,
        remoteWrite: config.remote_write,
        alertRules:
          config.alert_rules === false
            ? null
            : { lookback: config.alert_rules.lookback, recheckS: config.alert_rules.recheck_s, maxQueries: config.alert_rules.max_queries },
        freshness: config.freshness.map((f) => ({
          name: f.name,
          ...(f.job !== undefined ? { job: f.job } : { selector: f.selector ?? '' }),
          lookback: f.lookback,
          labels: { ...(f.job !== undefined ? { job: f.job } : { selector: (f.selector ?? '').slice(0, 256) }), ...f.labels },
        })),
      });
    case 'alertmanager':
      return alertmanagerProbe({
        ...common,
        url: config.url,
        timeoutS: config.timeout_s,
        clusterSize: config.cluster_size,
        silenceMaxAgeS: config.silence_max_age_s === false ? null : config.silence_max_age_s,
      });
    case 'otel_collector':
      return otelCollectorProbe({ ...common, url: config.url, timeoutS: config.timeout_s, healthUrl: config.health_url ?? null });
    case 'pushgateway_canary':
      return canaryProbe({
        ...common,
        pushgatewayUrl: config.pushgateway_url,
        prometheusUrl: config.prometheus_url,
        job: config.job,
        instance: config.instance ?? agentId,
        timeoutS: config.timeout_s,
      });
    case 'promql':
      return promqlProbe({
        ...common,
        url: config.url,
        query: config.query,
        kind: config.kind,
        unit: config.unit ?? DEFAULT_UNIT[config.kind],
        timeoutS: config.timeout_s,
        onEmpty: config.on_empty,
        seriesLabels: config.series_labels,
      });
    case 'prometheus_freshness':
      return prometheusFreshnessProbe({ ...common, url: config.url, selector: config.selector, timeoutS: config.timeout_s });
    case 'demo':
      return demoProbe(common);
  }
}

/** Every configured probe, with what it reads through (see readThrough). */
export function createProbes(configs: readonly ProbeConfig[], agentId: string): Probe[] {
  const upOf = new Map<string, string>();
  for (const c of configs) if (c.type === 'prometheus') upOf.set(baseUrl(c.url), `${c.name}.up`);
  return configs.map((c) => {
    const probe = createProbe(c, agentId);
    const reads =
      c.type === 'promql' || c.type === 'prometheus_freshness' ? c.url : c.type === 'pushgateway_canary' ? c.prometheus_url : null;
    const via = reads === null ? undefined : upOf.get(baseUrl(reads));
    return via === undefined ? probe : readThrough(probe, via);
  });
}

const baseUrl = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
};

export interface ProbeRun {
  probe: Probe;
  signals: Signal[];
  durationMs: number;
}

/** Runs one probe; a probe that breaks its promise not to throw still yields an unknown signal. */
export async function runProbe(probe: Probe, clock: () => number = performance.now.bind(performance)): Promise<ProbeRun> {
  const started = clock();
  let signals: Signal[];
  try {
    signals = await probe.collect();
  } catch (e: unknown) {
    signals = [
      {
        name: probe.name,
        kind: 'freshness',
        value: null,
        error: `probe crashed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1024),
      },
    ];
  }
  return { probe, signals, durationMs: clock() - started };
}

/**
 * The agent's own health, so a slow or broken probe is visible at the watchdog: per probe, how long it
 * took (queue_age: the measurement is that much older than the heartbeat) and how many of its signals
 * it could not measure.
 */
export function selfTelemetry(runs: readonly ProbeRun[]): Signal[] {
  return runs.flatMap(({ probe, signals, durationMs }) => {
    const labels = { source: 'blindspot-agent', probe: probe.name };
    // A probe whose component is down fails and slows with it: read through the same signal.
    const root = signals.find((s) => s.via !== undefined)?.via ?? signals.find((s) => s.name === `${probe.name}.up`)?.name;
    const through = (s: Signal): Signal => (root === undefined ? s : { ...s, via: root });
    return [
      through(measured(base('agent.probe.duration', 'queue_age', 's', labels), durationMs / 1000)),
      through(measured(base('agent.probe.failed', 'dropped', 'signals', labels), signals.filter((s) => s.value === null).length)),
    ];
  });
}

export interface Collected {
  signals: Signal[];
  runs: ProbeRun[];
  /** Signals left out: duplicates, or past the protocol's limit of MAX_SIGNALS per heartbeat. */
  omitted: number;
}

/** Runs every probe at once and assembles one heartbeat's signals: the probes' first, then the agent's own. */
export async function collectAll(probes: readonly Probe[], globalLabels: Record<string, string> = {}): Promise<Collected> {
  const runs = await Promise.all(probes.map((p) => runProbe(p)));
  const all = [...runs.flatMap((r) => r.signals), ...selfTelemetry(runs)];
  const seen = new Set<string>();
  const signals: Signal[] = [];
  for (const s of all) {
    const labelled = Object.keys(globalLabels).length === 0 ? s : { ...s, labels: { ...globalLabels, ...s.labels } };
    const key = signalKey(labelled);
    if (seen.has(key) || signals.length >= MAX_SIGNALS) continue;
    seen.add(key);
    signals.push(labelled);
  }
  return { signals, runs, omitted: all.length - signals.length };
}
