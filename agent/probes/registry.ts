import type { ProbeConfig } from '../config.ts';
import { demoProbe } from './demo.ts';
import type { Probe } from './probe.ts';
import { prometheusFreshnessProbe } from './prometheus-freshness.ts';

export function createProbe(config: ProbeConfig): Probe {
  switch (config.type) {
    case 'prometheus_freshness':
      return prometheusFreshnessProbe({ name: config.name, url: config.url, selector: config.selector, timeoutS: config.timeout_s, labels: config.labels });
    case 'demo':
      return demoProbe({ name: config.name, labels: config.labels });
  }
}

/** Runs every probe at once; a probe that breaks its promise not to throw still yields an unknown signal. */
export async function collectAll(probes: readonly Probe[]) {
  const results = await Promise.all(
    probes.map(async (probe) => {
      try {
        return await probe.collect();
      } catch (e: unknown) {
        return [{ name: probe.name, kind: 'freshness' as const, value: null, error: `probe crashed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1024) }];
      }
    }),
  );
  return results.flat();
}
