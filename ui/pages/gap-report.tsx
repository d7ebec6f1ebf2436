// The gap report page for postmortem reviewers: the verdict, coverage against the objective, a
// timeline, and every window in a table. A plain GET form changes the range and filters; links
// download the same report as CSV, Markdown or JSON. No script.
import type { Component } from '../../config/resolve.ts';
import type { CoverageShape, GapReportShape } from '../../worker/routes/gap-shapes.ts';
import { humanDuration } from '../../worker/notify/render.ts';
import { causeClass, GapTimeline, LEGEND } from '../components/gap-timeline.tsx';
import { STYLE } from '../components/page-shell.tsx';
import { budgetText, burn, percent } from '../gap-report/markdown.ts';

export const GAP_STYLE = `${STYLE}
main{max-width:72rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;padding:.75rem;border:1px solid var(--line);border-radius:.5rem;background:var(--panel)}
form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
form.filters input{font:inherit;padding:.2rem .35rem;min-width:12rem;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:.25rem}
form.filters button{font:inherit;padding:.3rem .9rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem}th,td{text-align:left;padding:.3rem .45rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.timeline{width:100%;min-width:44rem;height:auto;display:block;margin:.5rem 0}
.lane{fill:var(--bg)}.lane.odd{fill:var(--panel)}.lane-label,.tick-label{font:11px system-ui,sans-serif;fill:var(--fg)}
.tick{stroke:var(--line);stroke-width:1}
.band-maint{fill:var(--maint);fill-opacity:.12}.band-silence{fill:var(--grey);fill-opacity:.12}.band-incident{fill:var(--bad);fill-opacity:.55}
.win{stroke:var(--bg);stroke-width:.5}.lvl-degraded{fill-opacity:.55}.from-backfill{stroke:var(--fg);stroke-dasharray:3 2;stroke-width:1}
.w-silent{fill:#b42318}.w-stale{fill:#c2410c}.w-sampling{fill:#7c3aed}.w-dropped{fill:#be185d}.w-queue{fill:#a16207}.w-unknown{fill:#5c6370}.w-other{fill:#0e7490}
.w-link{fill:#2563eb}.w-expected{fill:#93c5fd}.w-watchdog{fill:#1f2937}
.link-hatch{fill:none;stroke:#2563eb;stroke-width:1.5;stroke-dasharray:2 2}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.85rem;padding:0}.legend li{display:flex;align-items:center;gap:.35rem}
.legend svg{width:.9rem;height:.9rem}
.error{padding:.7rem 1rem;border-radius:.5rem;border-left:4px solid var(--bad);background:var(--panel)}
.verdict{font-weight:600;font-size:1.05rem}
`;

export interface GapPageProps {
  report: GapReportShape | null;
  error: string | null;
  params: URLSearchParams;
  components: readonly Component[];
}

function exportLink(params: URLSearchParams, format: string): string {
  const q = new URLSearchParams(params);
  q.delete('cursor');
  q.set('format', format);
  return `/api/v1/gaps?${q.toString()}`;
}

function CoverageTable({ rows }: { rows: CoverageShape[] }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>Pipeline</th>
            <th class="num">Coverage</th>
            <th>Objective met</th>
            <th class="num">Blind</th>
            <th class="num">Watchdog not evaluating</th>
            <th class="num">Paused</th>
            <th class="num">Budget left</th>
            <th class="num">Burn 1 h</th>
            <th class="num">Burn 6 h</th>
            <th class="num">Burn 3 d</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr>
              <td>{c.name}</td>
              <td class="num">{percent(c.coverage)}</td>
              <td class={c.met === false ? 'blind' : c.met ? 'ok' : 'no_data'}>{c.met === null ? 'no data' : c.met ? 'yes' : 'no'}</td>
              <td class="num">{humanDuration(c.blind_s)}</td>
              <td class="num">{humanDuration(c.unverified_s)}</td>
              <td class="num">{humanDuration(c.paused_s)}</td>
              <td class="num">{budgetText(c)}</td>
              <td class="num">{burn(c.burn_rate['1h'])}</td>
              <td class="num">{burn(c.burn_rate['6h'])}</td>
              <td class="num">{burn(c.burn_rate['3d'])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WindowTable({ report }: { report: GapReportShape }) {
  if (report.windows.length === 0) return <p>No windows in this range: nothing the watchdog watches was blind, degraded or unseen.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>Started</th>
            <th>Ended</th>
            <th class="num">Lasted</th>
            <th>What</th>
            <th>Agent · monitor</th>
            <th>Cause</th>
            <th>Paged</th>
            <th>Explanation</th>
          </tr>
        </thead>
        <tbody>
          {report.windows.map((w) => (
            <tr id={`w-${w.id}`}>
              <td>
                <time datetime={w.started_at}>{w.started_at}</time>
              </td>
              <td>{w.ended_at === null ? 'ongoing' : <time datetime={w.ended_at}>{w.ended_at}</time>}</td>
              <td class="num">{humanDuration(w.duration_s)}</td>
              <td class={w.verdict === 'blind' ? 'blind' : w.verdict === 'degraded' ? 'degraded' : 'unknown'}>
                {w.verdict.replace('_', ' ')}
              </td>
              <td>{w.source === 'watchdog' ? 'watchdog' : `${w.agent} · ${w.monitor}`}</td>
              <td>
                <svg width="10" height="10" aria-hidden="true">
                  <rect class={causeClass(w)} width="10" height="10" />
                </svg>{' '}
                {w.cause}
              </td>
              <td>{w.paged ? 'yes' : 'no'}</td>
              <td>{w.explanation}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Filters({ params }: { params: URLSearchParams }) {
  const field = (name: string, label: string, placeholder: string) => (
    <label>
      {label}
      <input name={name} value={params.get(name) ?? ''} placeholder={placeholder} />
    </label>
  );
  return (
    <form class="filters" method="get" action="/gaps">
      {field('from', 'From (RFC 3339)', '2026-11-22T00:00:00Z')}
      {field('to', 'To (RFC 3339)', 'now')}
      {field('tz', 'Time zone', 'UTC, +01:00, Europe/Berlin')}
      {field('agent', 'Agents', 'all (names or globs, comma-separated)')}
      {field('component', 'Components', 'all')}
      {field('monitor', 'Monitors', 'all')}
      {field('cause', 'Causes', 'all')}
      {field('objective', 'Objective', '0.999')}
      <button type="submit">Show</button>
    </form>
  );
}

export function GapReportPage(props: GapPageProps) {
  const r = props.report;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="robots" content="noindex" />
        <title>{r === null ? 'Gap report' : `Gap report ${r.range.from} to ${r.range.to}`}</title>
        <link rel="icon" href="data:," />
        <style dangerouslySetInnerHTML={{ __html: GAP_STYLE }} />
      </head>
      <body>
        <main>
          <h1>When was the monitoring blind?</h1>
          <Filters params={props.params} />
          {props.error !== null && (
            <p class="error" role="alert">
              {props.error}
            </p>
          )}
          {r !== null && (
            <>
              <p class="verdict" role="status">
                {r.summary.verdict}
              </p>
              <p class="meta">
                From <time datetime={r.range.from}>{r.range.from}</time> to <time datetime={r.range.to}>{r.range.to}</time>
                {r.range.to_clamped_to_now && ' (now)'}, times in {r.range.time_zone}. Objective: {percent(r.objective)} of the time
                observable. {r.summary.windows} window(s), {r.summary.paged} paged. Download:{' '}
                <a href={exportLink(props.params, 'csv')}>CSV</a> · <a href={exportLink(props.params, 'md')}>Markdown</a> ·{' '}
                <a href={exportLink(props.params, 'json')}>JSON</a>
              </p>
              <h2>Coverage</h2>
              <CoverageTable rows={[r.coverage.overall, ...r.coverage.components]} />
              <p class="meta">
                Coverage is the share of the range each pipeline was observable, leaving out paused time (maintenance, agents stopped on
                purpose). Time the watchdog itself was not evaluating counts against it: we never call unverified time seen. A burn rate of
                1 spends the budget exactly over the objective's period.
              </p>
              <h2>Timeline</h2>
              <div class="scroll">
                <GapTimeline report={r} />
              </div>
              <ul class="legend">
                {LEGEND.map(([cls, text]) => (
                  <li>
                    <svg aria-hidden="true" viewBox="0 0 10 10">
                      <rect class={cls} width="10" height="10" />
                    </svg>
                    {text}
                  </li>
                ))}
                <li>Dashed outline: found in backfilled heartbeats. Red strip on top: incidents. Tinted bands: maintenance.</li>
              </ul>
              <h2>Windows</h2>
              <WindowTable report={r} />
              {r.page.next_cursor !== null && (
                <p>
                  Showing {r.page.returned} of {r.page.total}.{' '}
                  <a
                    href={`/gaps?${new URLSearchParams([...[...props.params].filter(([k]) => k !== 'cursor'), ['cursor', r.page.next_cursor]]).toString()}`}
                  >
                    Next page
                  </a>
                </p>
              )}
            </>
          )}
          <footer>
            <a href="/">Status page</a> · The report reads every window Blindspot recorded: <strong>started</strong> is the first bad
            observation, not the alert.
          </footer>
        </main>
      </body>
    </html>
  );
}
