import type { AgentView } from '../../worker/core/agent-view.ts';
import type { ComponentView, Indicator } from '../../worker/core/component-view.ts';
import { type MaintenanceRow, maintenanceStatus } from '../../worker/core/notices.ts';
import type { ComponentUptime } from '../../worker/core/uptime-days.ts';
import type { IncidentWithUpdates } from '../../worker/store/notices.ts';
import { AgentRow, STATE_LABEL } from '../components/agent-row.tsx';
import { ComponentList } from '../components/component-list.tsx';
import { Incident, Maintenance } from '../components/notices.tsx';
import { PageShell } from '../components/page-shell.tsx';
import { formatAgo, isoTime } from '../relative-time.ts';

export interface StatusPageProps {
  title: string;
  now: number;
  indicator: Indicator;
  views: readonly ComponentView[];
  uptime: ReadonlyMap<string, ComponentUptime>;
  incidents: readonly IncidentWithUpdates[];
  maintenances: readonly MaintenanceRow[];
  agents: readonly AgentView[];
  /** D1 failed: incidents, maintenance and history are a kept copy from takenAt (null: none kept). */
  snapshot: { takenAt: number | null } | null;
  watchdogStalled: boolean;
  /** When the page reloads itself (s): just after the first evidence behind it runs out. */
  reloadS: number;
}

/** The headline, from the same indicator status.json gives. */
const SENTENCE: Record<Indicator, string> = {
  none: 'All systems operational, and verified.',
  minor: 'Some systems are degraded.',
  major: 'Partial outage: some systems are not working.',
  critical: 'Major outage.',
  maintenance: 'Under maintenance.',
  unverified: 'Status not verified: some monitoring data is missing or older than it should be.',
  stopped: 'Status not verified: some monitoring was stopped on purpose.',
};
const TONE: Record<Indicator, string> = {
  none: 'operational',
  minor: 'degraded_performance',
  major: 'partial_outage',
  critical: 'major_outage',
  maintenance: 'under_maintenance',
  unverified: 'unverified',
  stopped: 'stopped',
};

/** At most this many agent rows: those in trouble first; the rest are counted by state. */
export const MAX_AGENT_ROWS = 50;
const AGENT_ORDER: readonly AgentView['state'][] = ['blind', 'unverified', 'degraded', 'stopped', 'no_data', 'operational'];

function AgentList({ agents, now }: { agents: readonly AgentView[]; now: number }) {
  const sorted = [...agents].sort(
    (a, b) => AGENT_ORDER.indexOf(a.state) - AGENT_ORDER.indexOf(b.state) || a.agentId.localeCompare(b.agentId),
  );
  const shown = sorted.slice(0, MAX_AGENT_ROWS);
  const rest = sorted.slice(MAX_AGENT_ROWS);
  const counts = AGENT_ORDER.map((state) => [STATE_LABEL[state], rest.filter((a) => a.state === state).length] as const).filter(
    ([, n]) => n > 0,
  );
  return (
    <>
      <ul class="box">
        {shown.map((view) => (
          <AgentRow key={view.agentId} view={view} now={now} />
        ))}
      </ul>
      {rest.length > 0 && (
        <p class="meta">
          {rest.length} more not listed: {counts.map(([label, n]) => `${n} ${label.toLowerCase()}`).join(', ')}.
        </p>
      )}
    </>
  );
}

/** How much of the monitoring behind this page is verified and seeing right now. */
export function coverage(views: readonly ComponentView[]): { seeing: number; total: number } {
  const all = views.flatMap((v) => v.contributions).filter((c) => !c.maintenance && c.measures);
  const seeing = all.filter((c) => c.evidence === 'verified' && (c.level === 'up' || c.level === 'degraded')).length;
  return { seeing, total: all.length };
}

function CoverageLine({ views }: { views: readonly ComponentView[] }) {
  const { seeing, total } = coverage(views);
  const empty = views.filter((v) => v.contributions.length === 0).length;
  return (
    <p class="coverage">
      Monitoring coverage:{' '}
      {total === 0
        ? 'no monitoring data yet'
        : `${seeing} of ${total} monitored pipelines verified and seeing (${Math.floor((seeing / total) * 100)} %)`}
      {empty > 0 && `; ${empty} ${empty === 1 ? 'component has' : 'components have'} no monitoring data`}.
    </p>
  );
}

export function StatusPage(props: StatusPageProps) {
  const { now } = props;
  const { seeing, total } = coverage(props.views);
  const reduced = props.watchdogStalled || seeing < total || props.views.some((v) => v.status === 'unverified');
  const active = props.incidents.filter((i) => i.resolved_at === null);
  const recent = props.incidents.filter((i) => i.resolved_at !== null && now - i.resolved_at < 14 * 86_400_000);
  const current = props.maintenances.filter((m) => maintenanceStatus(m, now) === 'in_progress');
  const upcoming = props.maintenances.filter((m) => maintenanceStatus(m, now) === 'scheduled');
  const names = new Map(props.views.map((v) => [v.id, v.name]));
  return (
    <PageShell title={props.title} refreshS={props.reloadS}>
      <h1>{props.title}</h1>
      <p class={`overall ${TONE[props.indicator]}`} role="status">
        {SENTENCE[props.indicator]}
      </p>
      {props.snapshot !== null && (
        <p class="banner grey" role="alert">
          {props.snapshot.takenAt === null
            ? 'Our status database is unavailable, and no saved copy exists yet: incidents, maintenance and history cannot be shown. Component states below are live.'
            : `Our status database is unavailable: incidents, maintenance and history are a saved copy from ${formatAgo(props.snapshot.takenAt, now)} (${isoTime(props.snapshot.takenAt)}). Component states below are live.`}
        </p>
      )}
      {props.watchdogStalled && (
        <p class="banner grey" role="alert">
          The watchdog behind this page has stopped evaluating: no status below can be called verified until it resumes.
        </p>
      )}
      {reduced && !props.watchdogStalled && (
        <p class="banner" role="note">
          Reduced visibility: some of our monitoring is degraded or not verified, so this status may be incomplete.
        </p>
      )}
      <CoverageLine views={props.views} />
      {active.length > 0 && (
        <section>
          <h2>Active incidents</h2>
          {active.map((i) => (
            <Incident key={i.id} incident={i} now={now} />
          ))}
        </section>
      )}
      {current.length > 0 && (
        <section>
          <h2>Maintenance in progress</h2>
          {current.map((m) => (
            <Maintenance key={m.id} m={m} now={now} names={names} />
          ))}
        </section>
      )}
      <h2>Components</h2>
      {props.views.length === 0 ? (
        <p>No components are configured yet.</p>
      ) : (
        <ComponentList views={props.views} uptime={props.uptime} now={now} />
      )}
      <p class="meta">Bars: one per day over 90 days, by the worst state that day. Striped: no data, which is not the same as up.</p>
      {upcoming.length > 0 && (
        <section>
          <h2>Upcoming maintenance</h2>
          {upcoming.map((m) => (
            <Maintenance key={m.id} m={m} now={now} names={names} />
          ))}
        </section>
      )}
      <section>
        <h2>Past incidents (14 days)</h2>
        {recent.length === 0 ? (
          <p class="meta">No incidents in the last 14 days{props.snapshot !== null ? ' (as of the saved copy)' : ''}.</p>
        ) : (
          recent.map((i) => <Incident key={i.id} incident={i} now={now} />)
        )}
      </section>
      <details>
        <summary>Monitoring agents ({props.agents.length})</summary>
        {props.agents.length === 0 ? <p>No agents are configured yet.</p> : <AgentList agents={props.agents} now={now} />}
      </details>
      <footer>
        Rendered <time datetime={isoTime(now)}>{isoTime(now)}</time> by Blindspot, which runs apart from the monitoring it watches. This
        page reloads itself once its evidence runs out, and at least every 30 s. <a href="/history.atom">Atom</a> ·{' '}
        <a href="/history.rss">RSS</a> · <a href="/api/v2/summary.json">JSON API</a> ·{' '}
        <a href="/gaps">Gap report (for postmortem reviewers)</a>
      </footer>
    </PageShell>
  );
}
