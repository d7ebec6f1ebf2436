// The gap report as Markdown to paste into a postmortem: the verdict, coverage against the objective,
// then one table row per window. Table cells escape what would end a cell or start markup.
import type { CoverageShape, GapReportShape } from '../../worker/routes/gap-shapes.ts';
import { humanDuration } from '../../worker/notify/render.ts';

/** Pipes end cells, line breaks end rows, and the rest would become markup. */
export function mdCell(value: string | number | boolean | null): string {
  if (value === null || value === '') return '–';
  return (
    String(value)
      .replace(/[\\`*[\]<>|#~]/g, (c) => `\\${c}`)
      // An underscore inside a word (agent_silent) is plain text in CommonMark; only one at a word's edge can start emphasis.
      .replace(/_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_/g, '\\_')
      .replace(/\r?\n|\r/g, ' ')
  );
}

/** Rounded down, so 99.9996 % never shows as a met 100 %. */
export const percent = (x: number | null) => (x === null ? 'no data' : `${(Math.floor(x * 100_000) / 1000).toFixed(3)} %`);
export const burn = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const dur = (s: number) => humanDuration(s);
export const budgetText = (c: Pick<CoverageShape, 'budget_s' | 'budget_left_s'>) =>
  c.budget_left_s < 0 ? `over by ${dur(-c.budget_left_s)} (budget ${dur(c.budget_s)})` : `${dur(c.budget_left_s)} of ${dur(c.budget_s)}`;

function coverageRow(c: CoverageShape): string {
  const cells = [
    c.name,
    percent(c.coverage),
    c.met === null ? '–' : c.met ? 'yes' : 'no',
    dur(c.blind_s),
    dur(c.unverified_s),
    dur(c.paused_s),
    budgetText(c),
    burn(c.burn_rate['1h']),
    burn(c.burn_rate['6h']),
    burn(c.burn_rate['3d']),
  ];
  return `| ${cells.map(mdCell).join(' | ')} |`;
}

export function renderMarkdown(r: GapReportShape): string {
  const out: string[] = [];
  out.push(`### Monitoring gaps, ${r.range.from} to ${r.range.to}`, '');
  out.push(`**${mdCell(r.summary.verdict)}**`, '');
  out.push(
    `Times are in ${mdCell(r.range.time_zone)}. Objective: ${percent(r.objective)} of the time observable. Generated ${r.generated_at}.`,
    '',
  );
  out.push('#### Coverage', '');
  out.push(
    '| Pipeline | Coverage | Objective met | Blind | Watchdog not evaluating | Paused | Budget left | Burn 1 h | Burn 6 h | Burn 3 d |',
  );
  out.push('|---|---:|---|---:|---:|---:|---|---:|---:|---:|');
  for (const c of [r.coverage.overall, ...r.coverage.components]) out.push(coverageRow(c));
  out.push('', '#### Windows', '');
  if (r.windows.length === 0) out.push('No windows in this range.');
  else {
    out.push('| Started | Ended | Lasted | What | Agent | Monitor | Cause | Peak | Paged | Explanation |');
    out.push('|---|---|---:|---|---|---|---|---:|---|---|');
    for (const w of r.windows)
      out.push(
        `| ${[w.started_at, w.ended_at ?? 'ongoing', dur(w.duration_s), w.verdict.replace('_', ' '), w.agent, w.monitor, w.cause, w.peak_value, w.paged ? 'yes' : 'no', w.explanation].map(mdCell).join(' | ')} |`,
      );
  }
  if (r.link_outages.length > 0) {
    out.push('', '#### Link outages (from backfilled heartbeats)', '');
    out.push('| Agent | From | To | Lasted | Heartbeats | Monitoring meanwhile |');
    out.push('|---|---|---|---:|---:|---|');
    for (const o of r.link_outages)
      out.push(`| ${[o.agent, o.started_at, o.ended_at, dur(o.duration_s), o.heartbeats, o.monitoring].map(mdCell).join(' | ')} |`);
  }
  if (r.incidents.length > 0 || r.maintenances.length > 0) {
    out.push('', '#### Incidents and maintenance in the range', '');
    for (const i of r.incidents)
      out.push(`- Incident ${mdCell(i.name)} (${mdCell(i.impact)}): ${i.started_at} to ${i.resolved_at ?? 'unresolved'}`);
    for (const m of r.maintenances)
      out.push(`- ${m.kind === 'silence' ? 'Silence' : 'Maintenance'} ${mdCell(m.name)}: ${m.starts_at} to ${m.ends_at}`);
  }
  if (r.page.next_cursor !== null)
    out.push('', `_Showing ${r.page.returned} of ${r.page.total} windows; ask again with cursor=${r.page.next_cursor} for the rest._`);
  return `${out.join('\n')}\n`;
}
