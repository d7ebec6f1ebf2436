// The windows of a gap report as CSV per RFC 4180: a header row, CRLF line ends, fields quoted when
// they hold a comma, a quote or a line break, quotes doubled. A text field that a spreadsheet would
// run as a formula (starting with = + - @) is prefixed with ' (OWASP's advice for CSV injection).
import type { GapReportShape, WindowShape } from '../../worker/routes/gap-shapes.ts';

export const CSV_COLUMNS = [
  'started_at',
  'ended_at',
  'duration_s',
  'verdict',
  'agent',
  'monitor',
  'component',
  'cause',
  'level',
  'signal',
  'peak_value',
  'confirmed_at',
  'notified_at',
  'paged',
  'in_maintenance',
  'silenced',
  'expected_silence',
  'watchdog_gap_s',
  'link_outage_s',
  'source',
  'id',
  'explanation',
] as const satisfies readonly (keyof WindowShape)[];

const TEXT = new Set<string>(['verdict', 'agent', 'monitor', 'component', 'cause', 'level', 'signal', 'source', 'id', 'explanation']);

export function csvField(value: string | number | boolean | null, text: boolean): string {
  if (value === null) return '';
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(report: Pick<GapReportShape, 'windows'>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const w of report.windows) lines.push(CSV_COLUMNS.map((c) => csvField(w[c], TEXT.has(c))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
