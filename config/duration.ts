// Durations as the Prometheus ecosystem writes them (15s, 2m, 1h30m, 1d, 500ms), accepted by every
// *_s field of both configuration files; a plain number of seconds is kept as the older form.
import * as v from 'valibot';

const DURATION = /^(?:(\d{1,6})w)?(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m(?!s))?(?:(\d{1,6})s)?(?:(\d{1,6})ms)?$/;

/** What a duration looks like (for the JSON Schema too): at least one unit, none twice. */
export const DURATION_PATTERN = /^(?=\d)(?:\d{1,6}w)?(?:\d{1,6}d)?(?:\d{1,6}h)?(?:\d{1,6}m(?!s))?(?:\d{1,6}s)?(?:\d{1,6}ms)?$/;

/** A Prometheus duration (15s, 2m, 1h30m, 1d, 1w; ms too) in seconds, or null when it is not one. */
export function durationSeconds(text: string): number | null {
  const m = DURATION.exec(text);
  if (m === null || text === '') return null;
  const [w, d, h, min, s, ms] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  return w * 604_800 + d * 86_400 + h * 3600 + min * 60 + s + ms / 1000;
}

/** A readable bound: 90 → "90 (1m30s)". */
function shown(s: number): string {
  if (s < 60 || !Number.isInteger(s)) return String(s);
  const parts: string[] = [];
  let left = s;
  for (const [unit, n] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (left >= n) parts.push(`${Math.floor(left / n)}${unit}`);
    left %= n;
  }
  return `${s} (${parts.join('')})`;
}

/**
 * A number of seconds, written as a duration ("30s", "2m", "1h30m") or as a number (30): the field's
 * value is always seconds. Bounds are checked on the seconds, and named in both forms.
 */
export const seconds = (field: string, min: number, max: number) => {
  const expected = `${field} is a duration such as 30s, 2m or 1h30m, or a number of seconds`;
  const atLeast = `${field} is at least ${shown(min)} seconds`;
  const atMost = `${field} is at most ${shown(max)} seconds`;
  return v.union(
    [
      v.pipe(v.number(expected), v.finite(`${field} must be finite`), v.minValue(min, atLeast), v.maxValue(max, atMost)),
      v.pipe(
        v.string(expected),
        v.regex(DURATION_PATTERN, `${expected} (units: ms, s, m, h, d, w)`),
        v.transform((t) => durationSeconds(t) ?? 0),
        v.minValue(min, atLeast),
        v.maxValue(max, atMost),
      ),
    ],
    expected,
  );
};
