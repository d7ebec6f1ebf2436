// Instant queries against the Prometheus HTTP API (also spoken by Thanos, Mimir, VictoriaMetrics, Loki's
// metric queries): one GET /api/v1/query, the result as numbers, errors as sentences.
import { type Fetched, getText, under } from './http.ts';

export interface QuerySample {
  labels: Record<string, string>;
  value: number;
}

export interface QueryResult {
  /** Evaluation time, by the server's clock, in unix seconds. */
  time: number;
  samples: QuerySample[];
}

interface ApiAnswer {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

export async function instantQuery(base: string, query: string, timeoutS: number, what = 'Prometheus'): Promise<Fetched<QueryResult>> {
  const url = under(base, 'api/v1/query');
  url.searchParams.set('query', query);
  // Prometheus stops the query itself a little before the agent gives up waiting.
  url.searchParams.set('timeout', `${Math.max(100, Math.round(timeoutS * 900))}ms`);
  const answer = await getText({ what, url, timeoutS }, 'application/json');
  if (!answer.ok) {
    // A 4xx/5xx with a JSON error body says more than the status line.
    const refused = tryJson(answer.body ?? '') as ApiAnswer | null;
    return refused?.error ? { ok: false, error: `${what} query failed (HTTP ${answer.status}): ${refused.error}` } : answer;
  }
  const parsed = tryJson(answer.value);
  if (parsed === null)
    return { ok: false, error: `${what} answered HTTP ${answer.status} without JSON (is ${base} the ${what} base URL?)` };
  const body = parsed as ApiAnswer;
  if (body.status !== 'success') return { ok: false, error: `${what} query failed: ${body.error ?? 'no error text'}` };
  return toResult(body.data);
}

function toResult(data: ApiAnswer['data']): Fetched<QueryResult> {
  const result = data?.result;
  const bad = { ok: false as const, error: `unexpected query answer (resultType ${String(data?.resultType)})` };
  if (data?.resultType === 'scalar' && Array.isArray(result)) {
    return { ok: true, status: 200, value: { time: Number(result[0]), samples: [{ labels: {}, value: Number(result[1]) }] } };
  }
  if (data?.resultType !== 'vector' || !Array.isArray(result)) return bad;
  const samples: QuerySample[] = [];
  let time = Number.NaN;
  for (const item of result as { metric?: Record<string, string>; value?: [number, string] }[]) {
    if (!Array.isArray(item.value)) return bad;
    time = Number(item.value[0]);
    samples.push({ labels: item.metric ?? {}, value: Number(item.value[1]) });
  }
  return { ok: true, status: 200, value: { time, samples } };
}

/** The JSON value of a text, or null when it is not JSON. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The one number a query that aggregates to a single series returns; null with a reason otherwise. */
export function single(result: QueryResult, query: string): { value: number } | { error: string } {
  if (result.samples.length === 0) return { error: `${query} returned no series: no data is as blind as old data` };
  if (result.samples.length > 1) return { error: `${query} returned ${result.samples.length} series; wrap it in max(...) or sum(...)` };
  const value = result.samples[0]?.value ?? Number.NaN;
  return Number.isFinite(value) ? { value } : { error: `${query} returned ${String(value)}` };
}
