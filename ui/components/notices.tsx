import { type MaintenanceRow, maintenanceEnd, maintenanceStatus, stringList } from '../../worker/core/notices.ts';
import type { IncidentWithUpdates } from '../../worker/store/notices.ts';
import { formatAgo, isoTime } from '../relative-time.ts';

const label = (status: string) => status.replace(/_/g, ' ').replace(/^./, (ch) => ch.toUpperCase());

const When = ({ at, now }: { at: number; now: number }) => (
  <time datetime={isoTime(at)} title={isoTime(at)}>
    {at <= now ? formatAgo(at, now) : `at ${isoTime(at).replace('T', ' ').replace('Z', ' UTC')}`}
  </time>
);

/** An incident with its updates, newest first. Every piece of text is escaped by Preact. */
export function Incident({ incident, now }: { incident: IncidentWithUpdates; now: number }) {
  return (
    <article id={`incident-${incident.id}`}>
      <h3>{incident.name}</h3>
      <p class="meta">
        {label(incident.status)} · impact {incident.impact} · started <When at={incident.started_at} now={now} />
      </p>
      <ol>
        {incident.updates.map((u) => (
          <li>
            <strong>{label(u.status)}</strong>{' '}
            <span class="meta">
              · <When at={u.created_at} now={now} />
            </span>
            <p class="body">{u.body}</p>
          </li>
        ))}
      </ol>
    </article>
  );
}

export function Maintenance({ m, now, names }: { m: MaintenanceRow; now: number; names: ReadonlyMap<string, string> }) {
  const status = maintenanceStatus(m, now);
  const components = stringList(m.components).map((id) => names.get(id) ?? id);
  return (
    <article id={`maintenance-${m.id}`}>
      <h3>{m.name}</h3>
      <p class="meta">
        {status === 'in_progress' ? 'In progress' : label(status)} ·{' '}
        <time datetime={isoTime(m.scheduled_for)}>{isoTime(m.scheduled_for).replace('T', ' ').replace('Z', ' UTC')}</time> to{' '}
        <time datetime={isoTime(maintenanceEnd(m))}>{isoTime(maintenanceEnd(m)).replace('T', ' ').replace('Z', ' UTC')}</time>
        {components.length > 0 && <> · {components.join(', ')}</>}
      </p>
      {m.body && <p class="body">{m.body}</p>}
    </article>
  );
}
