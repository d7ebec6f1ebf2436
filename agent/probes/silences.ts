// Alertmanager silences that make the alert path blind by intent nobody remembers: an active silence
// whose matchers mute every critical alert (severity="critical", severity=~"critical|warning", only
// broad matchers beside it), and silences nobody has touched for longer than a bound. Read from
// GET /api/v2/silences. Pure apart from the one fetch.
import type { Signal } from '../../protocol/heartbeat.ts';
import { getText, under } from './http.ts';
import { base, byText, measured, unknownSignal } from './probe.ts';

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false for != and !~ (absent in old Alertmanagers: then it is =). */
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  status: { state: string };
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  createdBy: string;
  comment: string;
}

/** Silences named one signal each (the first names the window), at most. */
export const MAX_NAMED_SILENCES = 5;
const MAX_REGEX = 1000;

/** Whether a matcher lets through every label value `value` (undefined: the label is not there). */
function accepts(m: Matcher, value: string): boolean {
  const equal = m.isEqual !== false;
  let hit: boolean;
  if (!m.isRegex) hit = m.value === value;
  else {
    if (m.value.length > MAX_REGEX) return false;
    try {
      hit = new RegExp(`^(?:${m.value})$`).test(value);
    } catch {
      return false; // a pattern this runtime cannot read: not called broad
    }
  }
  return equal ? hit : !hit;
}

/**
 * Whether the silence mutes every alert labelled severity="critical": each matcher must let such an
 * alert through whatever its other labels are. A matcher on another label does only when it takes
 * any value (a regex that also matches the empty value, or alertname=~".+"), or excludes one (!=, !~).
 */
export function mutesEveryCritical(s: Pick<Silence, 'matchers'>): boolean {
  if (s.matchers.length === 0) return false;
  return s.matchers.every((m) => {
    if (m.name === 'severity') return accepts(m, 'critical');
    if (m.isEqual === false) return true;
    if (!m.isRegex) return false;
    return accepts(m, '') || (m.name === 'alertname' && (m.value === '.+' || m.value === '.*'));
  });
}

export function matchersText(matchers: readonly Matcher[]): string {
  const op = (m: Matcher) => (m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=');
  return `{${matchers.map((m) => `${m.name}${op(m)}${JSON.stringify(m.value)}`).join(', ')}}`;
}

export async function fetchSilences(
  url: string,
  timeoutS: number,
): Promise<{ ok: true; silences: Silence[] } | { ok: false; error: string }> {
  const r = await getText({ what: 'Alertmanager', url: under(url, 'api/v2/silences'), timeoutS }, 'application/json');
  if (!r.ok) return { ok: false, error: r.error };
  let value: unknown;
  try {
    value = JSON.parse(r.value);
  } catch {
    return { ok: false, error: 'Alertmanager answered /api/v2/silences without JSON (is url the Alertmanager base URL?)' };
  }
  if (!Array.isArray(value)) return { ok: false, error: 'Alertmanager /api/v2/silences is not a list of silences' };
  const silences = value.filter(
    (s): s is Silence =>
      typeof s === 'object' &&
      s !== null &&
      typeof (s as Silence).id === 'string' &&
      Array.isArray((s as Silence).matchers) &&
      typeof (s as Silence).status?.state === 'string',
  );
  return { ok: true, silences };
}

/**
 * The silence signals: per active silence that mutes every critical alert, one named after it (first,
 * so the window names it, with who made it, its matchers and its end), then their count; and the
 * count of active silences nobody updated within `maxAgeS`.
 */
export function silenceSignals(
  n: string,
  labels: Record<string, string>,
  got: Awaited<ReturnType<typeof fetchSilences>>,
  maxAgeS: number,
  now: number,
): Signal[] {
  const broad = base(`${n}.silences.broad`, 'dropped', 'silences', labels);
  const stale = base(`${n}.silences.stale`, 'dropped', 'silences', labels);
  if (!got.ok) return [unknownSignal(broad, got.error), unknownSignal(stale, got.error)];
  const active = got.silences.filter((s) => s.status.state === 'active');
  const muting = active.filter(mutesEveryCritical).sort((a, b) => byText(a.id, b.id));
  const named = muting.slice(0, MAX_NAMED_SILENCES).map((s) =>
    measured(
      {
        ...broad,
        name: `${broad.name}:${s.id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 64)}`,
        labels: {
          ...labels,
          created_by: String(s.createdBy ?? '').slice(0, 128),
          matchers: matchersText(s.matchers).slice(0, 256),
          ends_at: String(s.endsAt ?? '').slice(0, 40),
        },
      },
      1,
    ),
  );
  const old = active.filter((s) => {
    const touched = Date.parse(s.updatedAt ?? s.startsAt);
    return Number.isFinite(touched) && now - touched > maxAgeS * 1000;
  });
  return [...named, measured(broad, muting.length), measured(stale, old.length)];
}
