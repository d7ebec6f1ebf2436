// Freshness of what Prometheus holds: the age in seconds of the newest sample matching a selector,
// computed by Prometheus itself so the agent's clock does not enter into it.
import type { Signal } from '../../protocol/heartbeat.ts';
import { type Probe, unknownSignal } from './probe.ts';

export interface PrometheusFreshnessOptions {
  name: string;
  url: string;
  selector: string;
  timeoutS: number;
  labels: Record<string, string>;
}

interface QueryResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { value?: [number, string] }[] };
}

export function freshnessQuery(selector: string): string {
  return `time() - max(timestamp(${selector}))`;
}

export function prometheusFreshnessProbe(options: PrometheusFreshnessOptions): Probe {
  const base = { name: options.name, kind: 'freshness' as const, unit: 's', labels: { source: 'prometheus', ...options.labels } };
  const endpoint = new URL('api/v1/query', options.url.endsWith('/') ? options.url : `${options.url}/`);
  return {
    name: options.name,
    async collect(): Promise<Signal[]> {
      const url = new URL(endpoint);
      url.searchParams.set('query', freshnessQuery(options.selector));
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutS * 1000), headers: { accept: 'application/json' } });
      } catch (e: unknown) {
        const reason = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${options.timeoutS} s` : `cannot reach Prometheus at ${options.url}: ${causeOf(e)}`;
        return [unknownSignal(base, reason)];
      }
      let body: QueryResponse;
      try {
        body = (await response.json()) as QueryResponse;
      } catch {
        return [unknownSignal(base, `Prometheus answered HTTP ${response.status} without JSON`)];
      }
      if (!response.ok || body.status !== 'success') return [unknownSignal(base, `Prometheus query failed (HTTP ${response.status}): ${body.error ?? 'no error text'}`)];
      const sample = body.data?.result?.[0]?.value;
      if (body.data?.resultType !== 'vector' || sample === undefined) {
        return [unknownSignal(base, `selector ${options.selector} matched no series: no data is as blind as old data`)];
      }
      const age = Number(sample[1]);
      if (!Number.isFinite(age)) return [unknownSignal(base, `Prometheus returned a non-numeric age "${sample[1]}"`)];
      return [{ ...base, value: Math.round(age * 1000) / 1000, error: null }];
    },
  };
}

function causeOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}
