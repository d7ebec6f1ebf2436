// The monitoring's own SLO: the share of a range during which each pipeline (status-page component)
// was observable, the error budget a coverage objective allows, and how fast it burns. Every instant
// of the range is counted once, in this order: no data (before anything fed the component), paused
// (maintenance, an agent stopped on purpose: excluded from the objective), unverified (the watchdog
// itself was not evaluating: never counted as observable), blind, observable. Pure.
import { intersect, type Interval, measure, subtract, union } from './intervals.ts';

export interface ComponentTimeline {
  id: string;
  name: string;
  /** When the first agent feeding it was first seen; null when nothing ever did. */
  firstSeenAt: number | null;
  blind: Interval[];
  degraded: Interval[];
  paused: Interval[];
  /** Spans only known from backfilled heartbeats: observable, but the watchdog saw them late. */
  linkOnly: Interval[];
}

export const BURN_WINDOWS = { '1h': 3_600_000, '6h': 6 * 3_600_000, '3d': 3 * 86_400_000 } as const;
export type BurnWindow = keyof typeof BURN_WINDOWS;

export interface Coverage {
  id: string;
  name: string;
  /** Milliseconds of each kind inside the range; they add up to the range. */
  rangeMs: number;
  noDataMs: number;
  pausedMs: number;
  unverifiedMs: number;
  blindMs: number;
  observableMs: number;
  /** Inside observable: degraded, and only known from backfill. */
  degradedMs: number;
  linkOnlyMs: number;
  /** observable / (range − no data − paused); null when nothing was measured. */
  coverage: number | null;
  budgetMs: number;
  budgetSpentMs: number;
  budgetLeftMs: number;
  /** Share of the budget left (negative once overspent); null without a budget. */
  budgetLeftRatio: number | null;
  /** Bad share over the last 1 h / 6 h / 3 d before the range's end, over what the objective allows. */
  burnRates: Record<BurnWindow, number | null>;
}

interface Parts {
  noData: Interval[];
  paused: Interval[];
  unverified: Interval[];
  blind: Interval[];
  degraded: Interval[];
  linkOnly: Interval[];
}

/** Splits a span into its exclusive parts, in the order the header gives. */
function partsOf(
  span: Interval,
  t: Pick<ComponentTimeline, 'firstSeenAt' | 'blind' | 'degraded' | 'paused' | 'linkOnly'>,
  unverified: readonly Interval[],
): Parts {
  const measuredFrom = t.firstSeenAt === null ? span.end : Math.min(span.end, Math.max(span.start, t.firstSeenAt));
  const noData = measuredFrom > span.start ? [{ start: span.start, end: measuredFrom }] : [];
  const measured = [{ start: measuredFrom, end: span.end }].filter((i) => i.end > i.start);
  const paused = intersect(union(t.paused), measured);
  const unv = subtract(intersect(union(unverified), measured), paused);
  const excluded = union([...paused, ...unv]);
  const blind = subtract(intersect(union(t.blind), measured), excluded);
  const taken = union([...excluded, ...blind]);
  return {
    noData,
    paused,
    unverified: unv,
    blind,
    degraded: subtract(intersect(union(t.degraded), measured), taken),
    linkOnly: subtract(intersect(union(t.linkOnly), measured), taken),
  };
}

function badShare(p: Parts, span: Interval): number | null {
  const counted = span.end - span.start - measure(p.noData) - measure(p.paused);
  return counted <= 0 ? null : (measure(p.unverified) + measure(p.blind)) / counted;
}

export function coverageOf(t: ComponentTimeline, range: Interval, unverified: readonly Interval[], objective: number): Coverage {
  const p = partsOf(range, t, unverified);
  const rangeMs = range.end - range.start;
  const [noDataMs, pausedMs, unverifiedMs, blindMs] = [measure(p.noData), measure(p.paused), measure(p.unverified), measure(p.blind)];
  const counted = rangeMs - noDataMs - pausedMs;
  const observableMs = counted - unverifiedMs - blindMs;
  const budgetMs = (1 - objective) * counted;
  const spent = unverifiedMs + blindMs;
  const burnRates = {} as Record<BurnWindow, number | null>;
  for (const [name, ms] of Object.entries(BURN_WINDOWS) as [BurnWindow, number][]) {
    const span = { start: range.end - ms, end: range.end };
    const share = badShare(partsOf(span, t, unverified), span);
    burnRates[name] = share === null ? null : share / (1 - objective);
  }
  return {
    id: t.id,
    name: t.name,
    rangeMs,
    noDataMs,
    pausedMs,
    unverifiedMs,
    blindMs,
    observableMs,
    degradedMs: measure(p.degraded),
    linkOnlyMs: measure(p.linkOnly),
    coverage: counted > 0 ? observableMs / counted : null,
    budgetMs,
    budgetSpentMs: spent,
    budgetLeftMs: budgetMs - spent,
    budgetLeftRatio: budgetMs > 0 ? (budgetMs - spent) / budgetMs : null,
    burnRates,
  };
}

/**
 * All pipelines at once: an instant is paused only when every pipeline is, blind when any pipeline
 * that is not paused is blind, and has data from the first moment any pipeline had.
 */
export function overallTimeline(timelines: readonly ComponentTimeline[]): ComponentTimeline {
  const seen = timelines.map((t) => t.firstSeenAt).filter((x): x is number => x !== null);
  const pausedAll = timelines.length === 0 ? [] : timelines.map((t) => union(t.paused)).reduce((acc, p) => intersect(acc, p));
  const notPaused = (t: ComponentTimeline, set: Interval[]) => subtract(union(set), union(t.paused));
  return {
    id: 'overall',
    name: 'All pipelines',
    firstSeenAt: seen.length === 0 ? null : Math.min(...seen),
    paused: pausedAll,
    blind: union(timelines.flatMap((t) => notPaused(t, t.blind))),
    degraded: union(timelines.flatMap((t) => notPaused(t, t.degraded))),
    linkOnly: union(timelines.flatMap((t) => notPaused(t, t.linkOnly))),
  };
}
