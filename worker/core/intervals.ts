// Half-open time intervals [start, end) in unix milliseconds, and the set arithmetic coverage needs.
// A set is kept sorted and disjoint, so measuring it is a plain sum. Pure.
export interface Interval {
  start: number;
  end: number;
}

/** Sorted, disjoint, non-empty intervals; touching ones are merged. */
export function union(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The parts of set `a` that lie outside set `b` (both as union() returns them). */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const i of a) {
    let start = i.start;
    while (j < b.length && b[j]!.end <= start) j++;
    for (let k = j; k < b.length && b[k]!.start < i.end; k++) {
      if (b[k]!.start > start) out.push({ start, end: b[k]!.start });
      start = Math.max(start, b[k]!.end);
    }
    if (start < i.end) out.push({ start, end: i.end });
  }
  return out;
}

/** Where both sets hold. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i]!.start, b[j]!.start);
    const end = Math.min(a[i]!.end, b[j]!.end);
    if (end > start) out.push({ start, end });
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return out;
}

export const clip = (set: readonly Interval[], range: Interval): Interval[] => intersect(set, [range]);

/** Total length in milliseconds. */
export const measure = (set: readonly Interval[]): number => set.reduce((sum, i) => sum + (i.end - i.start), 0);

/** Milliseconds one interval shares with a set. */
export const overlapMs = (i: Interval, set: readonly Interval[]): number => measure(clip(set, i));
