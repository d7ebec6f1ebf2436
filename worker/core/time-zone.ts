// RFC 3339 times in and out. Input must name its zone (Z or ±hh:mm): a time without one is a
// guess about the reader's clock, and postmortems are read across zones. Output is written in the
// zone the reader asked for (UTC, a fixed offset, or an IANA name), always with its offset. Pure.
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** The calendar fields exist (no 2026-02-30, no 25:00) and the text parses. */
export function realCalendarTime(s: string): boolean {
  const [y, mo, d, h, mi, sec] = (s.match(/\d+/g) ?? []).map(Number) as number[];
  const day = new Date(Date.UTC(y as number, (mo as number) - 1, d));
  return (
    day.getUTCMonth() === (mo as number) - 1 &&
    day.getUTCDate() === d &&
    (h as number) < 24 &&
    (mi as number) < 60 &&
    (sec ?? 0) < 60 &&
    Number.isFinite(Date.parse(s))
  );
}

export interface Zone {
  /** As given: "UTC", "+05:30", "Europe/Berlin". */
  name: string;
  /** Minutes east of UTC at that instant. */
  offsetAt(ms: number): number;
}

const FIXED = /^([+-])(\d{2}):(\d{2})$/;

/** "UTC", "Z", "±hh:mm" or an IANA name; null when it is none of them. */
export function parseZone(text: string): Zone | null {
  if (text === 'UTC' || text === 'Z' || text === 'Etc/UTC') return { name: 'UTC', offsetAt: () => 0 };
  const fixed = FIXED.exec(text);
  if (fixed !== null) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    if (Number(fixed[2]) > 14 || Number(fixed[3]) > 59) return null;
    return { name: text, offsetAt: () => (fixed[1] === '-' ? -minutes : minutes) };
  }
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(text)) return null;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: text, timeZoneName: 'longOffset' });
  } catch {
    return null; // RangeError: not a zone this runtime knows
  }
  return {
    name: text,
    offsetAt(ms) {
      const label = format.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(label);
      return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
    },
  };
}

/** "2026-11-22T13:05:00+01:00"; whole seconds, as a report needs no more. */
export function formatInZone(ms: number, zone: Zone): string {
  const offset = zone.offsetAt(ms);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const abs = Math.abs(offset);
  return `${local}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
