// Alerting rules that cannot fire: for every alerting rule Prometheus runs (GET /api/v1/rules), the
// series its expression needs (rule-inputs.ts), each asked of Prometheus over a lookback
// (count(last_over_time(<selector>[lookback]))). A rule one of whose needed selectors matches
// nothing evaluates to nothing, however bad things get: the `promql/series` check pint runs at
// review time, run here all the time and out of band. Bounded: each selector is asked again at most
// every `recheckS`, at most `maxQueries` a run, four at a time; answers are kept only for selectors
// some rule still uses.
import { getText, under } from './http.ts';
import { instantQuery } from './prometheus-api.ts';
import { type Inputs, requiredSelectors } from './rule-inputs.ts';

export interface AlertRulesOptions {
  url: string;
  timeoutS: number;
  /** A Prometheus duration: how far back a sample still shows the series exists. */
  lookback: string;
  recheckS: number;
  maxQueries: number;
}

export interface RuleVerdict {
  rule: string;
  group: string;
  file: string;
  /** unknown: its expression does not parse, or a selector it needs has not been answered yet. */
  state: 'can_fire' | 'cannot_fire' | 'unknown';
  /** Needed selectors that match no series over the lookback. */
  missing: string[];
  error: string | null;
}

export type RulesCheck = { ok: true; rules: RuleVerdict[]; unanswered: number } | { ok: false; error: string };

interface Known {
  /** Whether the selector matched a series over the lookback; null until a query answered. */
  present: boolean | null;
  checkedAt: number;
  error: string | null;
}

interface ApiRules {
  status?: string;
  error?: string;
  data?: { groups?: { name?: string; file?: string; rules?: { type?: string; name?: string; query?: string }[] }[] };
}

const CONCURRENCY = 4;
const MAX_RULES = 5000;
const MAX_PARSED = 10_000;

export function alertRulesChecker(options: AlertRulesOptions, clock: () => number = Date.now) {
  const known = new Map<string, Known>();
  const parsed = new Map<string, Inputs>();
  const inputsOf = (expr: string): Inputs => {
    let inputs = parsed.get(expr);
    if (inputs === undefined) {
      if (parsed.size >= MAX_PARSED) parsed.clear();
      inputs = requiredSelectors(expr);
      parsed.set(expr, inputs);
    }
    return inputs;
  };

  async function ask(selector: string, now: number): Promise<void> {
    const query = `count(last_over_time(${selector}[${options.lookback}]))`;
    const r = await instantQuery(options.url, query, options.timeoutS);
    const before = known.get(selector);
    if (!r.ok) known.set(selector, { present: before?.present ?? null, checkedAt: now, error: r.error });
    else known.set(selector, { present: r.value.samples.some((s) => s.value > 0), checkedAt: now, error: null });
  }

  return {
    async check(): Promise<RulesCheck> {
      const now = clock();
      const rules = await listAlertingRules(options.url, options.timeoutS);
      if (!rules.ok) return rules;
      const wanted = new Set<string>();
      for (const r of rules.rules) {
        const inputs = inputsOf(r.query);
        if (inputs.ok) for (const s of inputs.selectors) wanted.add(s);
      }
      for (const s of known.keys()) if (!wanted.has(s)) known.delete(s);
      // The longest unasked first, never-asked before all; at most maxQueries of them this run.
      const due = [...wanted]
        .filter((s) => {
          const k = known.get(s);
          return k === undefined || k.present === null || now - k.checkedAt >= options.recheckS * 1000;
        })
        .sort((a, b) => (known.get(a)?.checkedAt ?? -1) - (known.get(b)?.checkedAt ?? -1))
        .slice(0, options.maxQueries);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, due.length) }, async () => {
          for (let i = next++; i < due.length; i = next++) await ask(due[i] as string, now);
        }),
      );
      const verdicts = rules.rules.map((r) => verdictOf(r, inputsOf(r.query), known));
      const unanswered = [...wanted].filter((s) => known.get(s)?.present == null).length;
      return { ok: true, rules: verdicts, unanswered };
    },
    /** The last error of any selector query, for the unknown case. */
    lastError(): string | null {
      for (const k of known.values()) if (k.error !== null) return k.error;
      return null;
    },
  };
}

function verdictOf(r: { rule: string; group: string; file: string }, inputs: Inputs, known: Map<string, Known>): RuleVerdict {
  if (!inputs.ok) return { ...r, state: 'unknown', missing: [], error: inputs.error };
  const missing = inputs.selectors.filter((s) => known.get(s)?.present === false);
  if (missing.length > 0) return { ...r, state: 'cannot_fire', missing, error: null };
  const unanswered = inputs.selectors.find((s) => known.get(s)?.present == null);
  if (unanswered !== undefined)
    return { ...r, state: 'unknown', missing: [], error: known.get(unanswered)?.error ?? `${unanswered} not asked yet` };
  return { ...r, state: 'can_fire', missing: [], error: null };
}

/** Every alerting rule Prometheus runs, with its group and file. */
export async function listAlertingRules(
  url: string,
  timeoutS: number,
): Promise<{ ok: true; rules: { rule: string; group: string; file: string; query: string }[] } | { ok: false; error: string }> {
  const target = under(url, 'api/v1/rules');
  target.searchParams.set('type', 'alert');
  const answer = await getText({ what: 'Prometheus', url: target, timeoutS }, 'application/json');
  if (!answer.ok) return { ok: false, error: answer.error };
  let body: ApiRules;
  try {
    body = JSON.parse(answer.value) as ApiRules;
  } catch {
    return { ok: false, error: `Prometheus answered /api/v1/rules without JSON (is ${url} the Prometheus base URL?)` };
  }
  if (body.status !== 'success' || !Array.isArray(body.data?.groups))
    return { ok: false, error: `Prometheus /api/v1/rules failed: ${body.error ?? 'no rule groups in the answer'}` };
  const rules: { rule: string; group: string; file: string; query: string }[] = [];
  for (const g of body.data.groups)
    for (const r of Array.isArray(g.rules) ? g.rules : [])
      if (r.type === 'alerting' && typeof r.name === 'string' && typeof r.query === 'string' && rules.length < MAX_RULES)
        rules.push({ rule: r.name, group: String(g.name ?? ''), file: String(g.file ?? ''), query: r.query });
  return { ok: true, rules };
}
