// Reading a component's own /metrics page (Prometheus text exposition format), parsed by
// parse-prometheus-text-format. Helpers add up the samples of a family, optionally by one label.
import parse from 'parse-prometheus-text-format';
import { type Fetched, getText, type Target } from './http.ts';

export type Labels = Record<string, string>;
export interface Sample {
  labels: Labels;
  value: number;
}
/** Family name → its samples. Counters, gauges and untyped families only; histograms are skipped. */
export type Families = Map<string, Sample[]>;

const FLOAT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

/**
 * Fetches and parses a /metrics page. `prefixes` names the families the caller reads: other lines are
 * skipped before parsing, which keeps a Prometheus server's thousand-line page cheap to read every
 * heartbeat.
 */
export async function scrape(target: Target, prefixes?: readonly string[]): Promise<Fetched<Families>> {
  const text = await getText(target, 'text/plain;version=0.0.4');
  if (!text.ok) return text;
  try {
    return { ok: true, value: families(prefixes === undefined ? text.value : only(text.value, prefixes)), status: text.status };
  } catch (e: unknown) {
    return {
      ok: false,
      error: `${target.what} /metrics is not in the Prometheus text format: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}

export function only(text: string, prefixes: readonly string[]): string {
  const keep: string[] = [];
  for (const line of text.split('\n')) {
    // "# HELP name ..." and "# TYPE name ..." belong to the family they name; other comments go.
    const name = line.startsWith('# ') ? (/^# (?:HELP|TYPE) (\S+)/.exec(line)?.[1] ?? '') : line;
    if (prefixes.some((p) => name.startsWith(p))) keep.push(line);
  }
  return keep.join('\n');
}

export function families(text: string): Families {
  const out: Families = new Map();
  // The parser silently loses a last line without its newline, which real pages sometimes lack.
  for (const family of parse(text.endsWith('\n') ? text : `${text}\n`)) {
    const samples: Sample[] = [];
    for (const m of family.metrics) {
      if (!('value' in m) || m.value === undefined) continue;
      // The parser passes a broken line through with an empty value: that is no zero.
      if (!FLOAT.test(m.value)) throw new Error(`the sample of ${family.name} has no number ("${m.value.slice(0, 40)}"): a broken line`);
      samples.push({ labels: m.labels ?? {}, value: Number(m.value) });
    }
    out.set(family.name, samples);
  }
  return out;
}

/**
 * The samples of the first of `names` the page has. Exporters spell counters with and without the
 * `_total` suffix depending on their version, so callers pass both.
 */
export function samplesOf(f: Families, names: readonly string[]): Sample[] | null {
  for (const name of names) {
    const samples = f.get(name);
    if (samples !== undefined) return samples;
  }
  return null;
}

export function total(samples: readonly Sample[], where: (labels: Labels) => boolean = () => true): number {
  let sum = 0;
  for (const s of samples) if (where(s.labels) && Number.isFinite(s.value)) sum += s.value;
  return sum;
}

export function totalsBy(samples: readonly Sample[], label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Both spellings of a counter: `base_total` and `base`. */
export const counter = (base: string): readonly string[] => [`${base}_total`, base];
