// The gap report's timeline as inline SVG: one lane per monitor on each agent, windows coloured by
// cause, the watchdog's own gaps on a lane of their own, link outages hatched on the agent's lane,
// incidents and maintenance as bands behind everything. Every mark has a <title>, so hovering (or a
// screen reader) says what it was; nothing needs JavaScript.
import type { GapReportShape, WindowShape } from '../../worker/routes/gap-shapes.ts';

export const WIDTH = 1000;
const LABEL_W = 190;
const LANE_H = 22;
const AXIS_H = 26;
const BAND_H = 16;

/** Cause → colour class; the stylesheet holds the colours. */
export function causeClass(w: Pick<WindowShape, 'cause' | 'verdict'>): string {
  if (w.verdict === 'expected') return 'w-expected';
  if (w.verdict === 'link_outage') return 'w-link';
  switch (w.cause) {
    case 'agent_silent':
    case 'alert_path_silent':
      return 'w-silent';
    case 'stale':
      return 'w-stale';
    case 'sampling_low':
    case 'sampling_drop':
      return 'w-sampling';
    case 'dropped':
    case 'alert_rules_silent':
    case 'targets_missing':
    case 'alerts_silenced':
      return 'w-dropped';
    case 'rules_behind':
      return 'w-queue';
    case 'config_reload_failed':
      return 'w-other';
    case 'queue_backlog':
    case 'queue_full':
      return 'w-queue';
    case 'watchdog_gap':
      return 'w-watchdog';
    case 'flapping':
    case 'clock_skew':
      return 'w-other';
    default:
      return 'w-unknown';
  }
}

export const LEGEND: [string, string][] = [
  ['w-silent', 'agent or alert path silent'],
  ['w-stale', 'stale data'],
  ['w-sampling', 'sampling too low or dropped'],
  ['w-dropped', 'dropped alerts or items, rules that cannot fire, alerts silenced, jobs without targets'],
  ['w-queue', 'queue backlog or full, rules evaluating late'],
  ['w-unknown', 'unknown (could not measure)'],
  ['w-other', 'flapping, clock skew or a failed config reload'],
  ['w-link', 'only the link to the watchdog was down'],
  ['w-expected', 'expected (maintenance, stopped)'],
  ['w-watchdog', 'the watchdog itself not evaluating'],
];

interface Props {
  report: GapReportShape;
}

const TICKS_MS = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000];

/** A tick spacing that gives at most about 8 labels. */
export function tickStep(spanMs: number): number {
  return TICKS_MS.find((t) => spanMs / t <= 8) ?? 14 * 86_400_000;
}

/** "14:05" within a day, "11-22 14:05" across days; in the report's zone, as its times are written. */
function tickLabel(iso: string, multiDay: boolean): string {
  const date = iso.slice(5, 10);
  const time = iso.slice(11, 16);
  return multiDay ? `${date} ${time}` : time;
}

export function GapTimeline({ report }: Props) {
  const from = Date.parse(report.range.from);
  const to = Date.parse(report.range.to);
  const span = Math.max(1, to - from);
  const x = (ms: number) => LABEL_W + ((Math.min(to, Math.max(from, ms)) - from) / span) * (WIDTH - LABEL_W);
  const windows = report.windows;
  const lanes = [...new Set(windows.filter((w) => w.source !== 'watchdog').map((w) => laneKey(w)))].sort();
  const hasWatchdog = windows.some((w) => w.source === 'watchdog');
  const allLanes = [...(hasWatchdog ? ['watchdog'] : []), ...lanes];
  const top = AXIS_H + BAND_H;
  const height = top + Math.max(1, allLanes.length) * LANE_H + 4;
  const laneY = (key: string) => top + allLanes.indexOf(key) * LANE_H;
  const offsetMs = Date.parse(`${report.range.from.slice(0, 19)}Z`) - from;
  const step = tickStep(span);
  const ticks: number[] = [];
  for (let t = Math.ceil((from + offsetMs) / step) * step - offsetMs; t <= to && ticks.length < 40; t += step) ticks.push(t);
  const multiDay = span > 86_400_000 || report.range.from.slice(0, 10) !== report.range.to.slice(0, 10);
  const iso = (ms: number) => new Date(ms + offsetMs).toISOString();
  const bar = (startMs: number, endMs: number) => ({ x: x(startMs), w: Math.max(2, x(endMs) - x(startMs)) });

  return (
    <svg class="timeline" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby="tl-title">
      <title id="tl-title">{`Timeline of ${windows.length} window(s) from ${report.range.from} to ${report.range.to}`}</title>
      {report.maintenances.map((m) => {
        const b = bar(Date.parse(m.starts_at), Date.parse(m.ends_at));
        return (
          <rect class={m.kind === 'silence' ? 'band-silence' : 'band-maint'} x={b.x} y={AXIS_H} width={b.w} height={height - AXIS_H}>
            <title>{`${m.kind === 'silence' ? 'Silence' : 'Maintenance'} ${m.name}: ${m.starts_at} to ${m.ends_at}`}</title>
          </rect>
        );
      })}
      {report.incidents.map((i) => {
        const b = bar(Date.parse(i.started_at), i.resolved_at === null ? to : Date.parse(i.resolved_at));
        return (
          <rect class="band-incident" x={b.x} y={AXIS_H} width={b.w} height={BAND_H - 3}>
            <title>{`Incident ${i.name} (${i.impact}): ${i.started_at} to ${i.resolved_at ?? 'unresolved'}`}</title>
          </rect>
        );
      })}
      {ticks.map((t) => (
        <g>
          <line class="tick" x1={x(t)} x2={x(t)} y1={AXIS_H - 6} y2={height} />
          <text class="tick-label" x={x(t)} y={AXIS_H - 10} text-anchor="middle">
            {tickLabel(iso(t), multiDay)}
          </text>
        </g>
      ))}
      {allLanes.map((key, i) => (
        <g>
          <rect class={i % 2 === 0 ? 'lane' : 'lane odd'} x={0} y={laneY(key)} width={WIDTH} height={LANE_H} />
          <text class="lane-label" x={4} y={laneY(key) + LANE_H - 7}>
            {key === 'watchdog' ? 'watchdog (our own gaps)' : key.length > 30 ? `${key.slice(0, 29)}…` : key}
          </text>
        </g>
      ))}
      {report.link_outages.map((o) => {
        const key = `${o.agent} · agent`;
        if (!allLanes.includes(key)) return null;
        const b = bar(Date.parse(o.started_at), Date.parse(o.ended_at));
        return (
          <rect class="link-hatch" x={b.x} y={laneY(key) + 2} width={b.w} height={LANE_H - 4}>
            <title>{`${o.agent}: link to the watchdog down ${o.started_at} to ${o.ended_at}; ${o.heartbeats} heartbeats backfilled; monitoring meanwhile: ${o.monitoring}`}</title>
          </rect>
        );
      })}
      {windows.map((w) => {
        const key = w.source === 'watchdog' ? 'watchdog' : laneKey(w);
        const b = bar(Date.parse(w.started_at), w.ended_at === null ? to : Date.parse(w.ended_at));
        const cls = `win ${causeClass(w)}${w.level === 'degraded' ? ' lvl-degraded' : ''}${w.source === 'backfill' ? ' from-backfill' : ''}`;
        return (
          <rect class={cls} x={b.x} y={laneY(key) + 4} width={b.w} height={LANE_H - 8} data-window={w.id}>
            <title>{`${w.started_at} to ${w.ended_at ?? 'ongoing'}: ${w.explanation}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}

function laneKey(w: Pick<WindowShape, 'agent' | 'monitor'>): string {
  return `${w.agent} · ${w.monitor}`;
}
