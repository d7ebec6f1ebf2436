// A canary through the metrics pipeline: every heartbeat the agent pushes its own clock reading to a
// Pushgateway, and reads back through Prometheus's query API the newest reading that made it. The age
// of that reading (agent clock both ends, so skew between hosts does not enter) is the end-to-end
// freshness of the pipeline: push → scrape → store → query. When any stage stops, it grows.
import type { Signal } from '../../protocol/heartbeat.ts';
import { send, under } from './http.ts';
import { instantQuery, single } from './prometheus-api.ts';
import { base, measured, type Probe, unknownSignal } from './probe.ts';

export interface CanaryOptions {
  name: string;
  pushgatewayUrl: string;
  prometheusUrl: string;
  job: string;
  /** Tells this agent's canary from others pushed to the same Pushgateway. */
  instance: string;
  timeoutS: number;
  labels: Record<string, string>;
  now?: () => number;
}

export const CANARY_METRIC = 'blindspot_canary_pushed_at_seconds';

export function canaryQuery(instance: string): string {
  return `max(${CANARY_METRIC}{blindspot_canary=${JSON.stringify(instance)}})`;
}

export function canaryProbe(options: CanaryOptions): Probe {
  const now = options.now ?? Date.now;
  const b = base(`${options.name}.freshness`, 'freshness', 's', { source: 'canary', ...options.labels });
  // Grouping key in the path: the canary label survives whatever honor_labels says.
  const pushUrl = under(
    options.pushgatewayUrl,
    `metrics/job/${encodeURIComponent(options.job)}/blindspot_canary/${encodeURIComponent(options.instance)}`,
  );
  const query = canaryQuery(options.instance);
  return {
    name: options.name,
    type: 'pushgateway_canary',
    async collect(): Promise<Signal[]> {
      const pushedAt = now() / 1000;
      const body = `# TYPE ${CANARY_METRIC} gauge\n${CANARY_METRIC} ${pushedAt.toFixed(3)}\n`;
      const [pushed, read] = await Promise.all([
        send({ what: 'the Pushgateway', url: pushUrl, timeoutS: options.timeoutS }, 'PUT', body, 'text/plain; version=0.0.4'),
        instantQuery(options.prometheusUrl, query, options.timeoutS),
      ]);
      if (!read.ok) return [unknownSignal(b, read.error)];
      const newest = single(read.value, query);
      if (!('value' in newest)) {
        return [
          unknownSignal(
            b,
            `no canary has come through yet${pushed.ok ? '' : ` (and the push failed: ${pushed.error})`}: does Prometheus scrape the Pushgateway at ${new URL(options.pushgatewayUrl).host}?`,
          ),
        ];
      }
      const age = Math.max(0, now() / 1000 - newest.value);
      return [
        { ...measured(b, age), error: pushed.ok ? null : `canary push failed, the age keeps growing: ${pushed.error}`.slice(0, 1024) },
      ];
    },
  };
}
