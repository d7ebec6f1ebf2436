// The gap report's query string, read strictly: every parameter is checked, and a bad one is named
// with the fix. The same parameters serve /api/v1/gaps, /gaps and `blindspot gaps`.
import { RECORDED_CAUSES } from '../core/blind-window.ts';
import type { GapFilters } from '../core/gap-report.ts';
import { GLOB_HINT, isGlob } from '../core/glob.ts';
import { parseZone, realCalendarTime, RFC3339, type Zone } from '../core/time-zone.ts';
import { ApiError } from '../errors.ts';

export const FORMATS = ['json', 'csv', 'md'] as const;
export type GapFormat = (typeof FORMATS)[number];
export const MAX_RANGE_MS = 92 * 86_400_000;
export const DEFAULT_RANGE_MS = 86_400_000;
export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 5000;
const MAX_VALUES = 20;
const KNOWN = new Set(['from', 'to', 'tz', 'agent', 'component', 'monitor', 'cause', 'objective', 'format', 'limit', 'cursor']);
/** What `cause=` may name: every cause a recorded window can have. */
export const CAUSES = RECORDED_CAUSES;

export interface GapQuery {
  from: number;
  to: number;
  /** `to` was later than now and was brought back to now. */
  clamped: boolean;
  zone: Zone;
  filters: GapFilters;
  objective: number;
  format: GapFormat;
  limit: number;
  /** Rows after this (started_at, id) position. */
  after: { startedAt: number; id: string } | null;
}

const bad = (param: string, message: string) => new ApiError(400, 'invalid_query', `${param}: ${message}`);

function time(params: URLSearchParams, name: 'from' | 'to'): number | null {
  const text = single(params, name);
  if (text === null) return null;
  if (!RFC3339.test(text))
    throw bad(name, `"${clip(text)}" is not an RFC 3339 time with a zone; write e.g. 2026-11-22T14:00:00Z or 2026-11-22T15:00:00+01:00`);
  if (!realCalendarTime(text)) throw bad(name, `"${clip(text)}" is not a real date and time (check the day of the month and the hours)`);
  return Date.parse(text);
}

function single(params: URLSearchParams, name: string): string | null {
  const all = params.getAll(name);
  if (all.length > 1) throw bad(name, 'give it once');
  return all[0] ?? null;
}

/** Comma-separated, repeatable: agent=a,b&agent=c. Names or globs with * and ?. */
function list(params: URLSearchParams, name: string, valid: (s: string) => boolean, hint: string): string[] {
  const values = params
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length > MAX_VALUES) throw bad(name, `at most ${MAX_VALUES} values`);
  for (const v of values) if (!valid(v)) throw bad(name, `"${clip(v)}" ${hint}`);
  return [...new Set(values)];
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}…` : s);

export function parseGapQuery(params: URLSearchParams, now: number, defaultObjective: number, formatDefault: GapFormat = 'json'): GapQuery {
  for (const key of params.keys())
    if (!KNOWN.has(key)) throw bad(clip(key), `unknown parameter; the report takes ${[...KNOWN].join(', ')}`);
  const toGiven = time(params, 'to');
  const fromGiven = time(params, 'from');
  const clamped = toGiven !== null && toGiven > now;
  const to = toGiven === null || clamped ? now : toGiven;
  const from = fromGiven ?? to - DEFAULT_RANGE_MS;
  if (from >= to)
    throw bad('from', fromGiven !== null && fromGiven >= now ? 'is in the future; a report covers what has happened' : 'must be before to');
  if (to - from > MAX_RANGE_MS)
    throw bad(
      'from',
      `the range is ${Math.ceil((to - from) / 86_400_000)} days; a report covers at most ${MAX_RANGE_MS / 86_400_000} days (make several)`,
    );

  const tzText = single(params, 'tz') ?? 'UTC';
  const zone = parseZone(tzText);
  if (zone === null)
    throw bad('tz', `"${clip(tzText)}" is not a time zone; use UTC, an offset such as +05:30, or an IANA name such as Europe/Berlin`);

  const objectiveText = single(params, 'objective');
  const objective = objectiveText === null ? defaultObjective : Number(objectiveText);
  if (objectiveText !== null && (!/^0?\.\d{1,6}$/.test(objectiveText) || objective < 0.5 || objective > 0.99999))
    throw bad('objective', `"${clip(objectiveText)}" is not a ratio between 0.5 and 0.99999, such as 0.999 (99.9 % observable)`);

  const formatText = single(params, 'format') ?? formatDefault;
  if (!(FORMATS as readonly string[]).includes(formatText))
    throw bad('format', `"${clip(formatText)}" is not one of ${FORMATS.join(', ')}`);

  const limitText = single(params, 'limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (limitText !== null && (!/^\d{1,5}$/.test(limitText) || limit < 1 || limit > MAX_LIMIT))
    throw bad('limit', `"${clip(limitText)}" is not a whole number from 1 to ${MAX_LIMIT}`);

  const globHint = `is not a name or glob: a glob ${GLOB_HINT}`;
  return {
    from,
    to,
    clamped,
    zone,
    filters: {
      agents: list(params, 'agent', isGlob, globHint),
      components: list(params, 'component', isGlob, globHint),
      monitors: list(params, 'monitor', isGlob, globHint),
      causes: list(params, 'cause', (s) => (CAUSES as readonly string[]).includes(s), `is not a cause; causes are ${CAUSES.join(', ')}`),
    },
    objective,
    format: formatText as GapFormat,
    limit,
    after: cursorOf(single(params, 'cursor')),
  };
}

/** Opaque to clients: base64url of "<started_at ms>:<id>". */
export function encodeCursor(row: { startedAt: number; id: string }): string {
  return btoa(`${row.startedAt}:${row.id}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function cursorOf(text: string | null): GapQuery['after'] {
  if (text === null) return null;
  let decoded: string;
  try {
    decoded = /^[A-Za-z0-9_-]{1,700}$/.test(text) ? atob(text.replace(/-/g, '+').replace(/_/g, '/')) : '';
  } catch {
    decoded = '';
  }
  const m = /^(\d{1,16}):(.{1,400})$/s.exec(decoded);
  if (m === null) throw bad('cursor', 'is not a cursor this report gave out; start again without it');
  return { startedAt: Number(m[1]), id: m[2] as string };
}
