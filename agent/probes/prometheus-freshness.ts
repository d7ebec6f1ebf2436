// Freshness of what Prometheus holds: the age in seconds of the newest sample matching a selector,
// computed by Prometheus itself so the agent's clock does not enter into it. The `prometheus` probe
// does this for a list of selectors; this one-selector probe type stays for existing configurations.
import type { Signal } from '../../protocol/heartbeat.ts';
import { instantQuery } from './prometheus-api.ts';
import { base, measured, type Probe, unknownSignal } from './probe.ts';

export interface PrometheusFreshnessOptions {
  name: string;
  url: string;
  selector: string;
  timeoutS: number;
  labels: Record<string, string>;
}

/**
 * How old the newest sample matching `selector` is. A scrape that fails writes staleness markers, after
 * which the selector alone matches nothing; the subquery looks back over `lookback` so the age keeps
 * growing through an outage (resolution: Prometheus's evaluation interval) instead of vanishing.
 */
export function freshnessQuery(selector: string, lookback = DEFAULT_LOOKBACK): string {
  return `time() - max_over_time(max(timestamp(${selector}))[${lookback}:])`;
}

export const DEFAULT_LOOKBACK = '1h';

/**
 * Freshness of a scrape job: time since its newest successful scrape (up == 1; a failed scrape writes
 * up 0), looking back over `lookback` so the age keeps growing through an outage. Only `up` is read,
 * so it costs the same for a job of ten series as for one of a million.
 */
export function jobFreshnessQuery(job: string, lookback: string): string {
  const up = `up{job=${JSON.stringify(job)}}`;
  return `time() - max_over_time(max(timestamp(${up}) and ${up} == 1)[${lookback}:])`;
}

/** The age the freshness query answered, or why there is none. */
export async function queryFreshness(
  url: string,
  what: { selector: string } | { job: string },
  timeoutS: number,
  lookback = DEFAULT_LOOKBACK,
): Promise<{ value: number } | { error: string }> {
  const query = 'job' in what ? jobFreshnessQuery(what.job, lookback) : freshnessQuery(what.selector, lookback);
  const r = await instantQuery(url, query, timeoutS);
  if (!r.ok) return { error: r.error };
  const sample = r.value.samples[0];
  if (sample === undefined) {
    return {
      error:
        'job' in what
          ? `job ${what.job} had no successful scrape in the last ${lookback}: no data is as blind as old data`
          : `selector ${what.selector} matched no series in the last ${lookback}: no data is as blind as old data`,
    };
  }
  if (!Number.isFinite(sample.value)) return { error: `Prometheus returned a non-numeric age "${sample.value}"` };
  return { value: Math.max(0, sample.value) };
}

export function prometheusFreshnessProbe(options: PrometheusFreshnessOptions): Probe {
  const b = base(options.name, 'freshness', 's', { source: 'prometheus', ...options.labels });
  return {
    name: options.name,
    type: 'prometheus_freshness',
    async collect(): Promise<Signal[]> {
      const age = await queryFreshness(options.url, { selector: options.selector }, options.timeoutS);
      return ['value' in age ? measured(b, age.value) : unknownSignal(b, age.error)];
    },
  };
}
