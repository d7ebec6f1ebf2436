import type { ComponentStatus, ComponentView } from '../../worker/core/component-view.ts';
import { STATUS_WORDS } from '../../worker/core/status-words.ts';
import type { ComponentUptime } from '../../worker/core/uptime-days.ts';
import { formatAgo, isoTime } from '../relative-time.ts';
import { UptimeBars } from './uptime-bars.tsx';

export const STATUS_LABEL = Object.fromEntries(Object.entries(STATUS_WORDS).map(([k, w]) => [k, w.label])) as Record<
  ComponentStatus,
  string
>;

function Verified({ at, now }: { at: number | null; now: number }) {
  if (at === null) return <span class="meta">never verified</span>;
  return (
    <span class="meta">
      verified{' '}
      <time datetime={isoTime(at)} title={isoTime(at)}>
        {formatAgo(at, now)}
      </time>
    </span>
  );
}

function Since({ view, now }: { view: ComponentView; now: number }) {
  if (view.stoppedSince === null) return <Verified at={view.verifiedAt} now={now} />;
  return (
    <span class="meta">
      since{' '}
      <time datetime={isoTime(view.stoppedSince)} title={isoTime(view.stoppedSince)}>
        {formatAgo(view.stoppedSince, now)}
      </time>
    </span>
  );
}

function ComponentRow({ view, uptime, now }: { view: ComponentView; uptime: ComponentUptime | undefined; now: number }) {
  return (
    <li id={`component-${view.id}`}>
      <div class="row">
        <span class="name">{view.name}</span>
        <span>
          <span class={`state ${view.status}`}>{STATUS_LABEL[view.status]}</span> · <Since view={view} now={now} />
        </span>
      </div>
      {view.description && <p class="meta body">{view.description}</p>}
      {uptime && <UptimeBars uptime={uptime} name={view.name} />}
    </li>
  );
}

/** Components in configuration order; those of a group are listed together under its name. */
export function ComponentList({
  views,
  uptime,
  now,
}: {
  views: readonly ComponentView[];
  uptime: ReadonlyMap<string, ComponentUptime>;
  now: number;
}) {
  const seen = new Set<string>();
  const items = [];
  for (const view of views) {
    if (view.group === null) {
      items.push(<ComponentRow key={view.id} view={view} uptime={uptime.get(view.id)} now={now} />);
      continue;
    }
    if (seen.has(view.group)) continue;
    seen.add(view.group);
    const members = views.filter((v) => v.group === view.group);
    items.push(
      <li class="group" key={`group:${view.group}`}>
        <span class="name">{view.group}</span>
        <ul>
          {members.map((m) => (
            <ComponentRow key={m.id} view={m} uptime={uptime.get(m.id)} now={now} />
          ))}
        </ul>
      </li>,
    );
  }
  return <ul class="box">{items}</ul>;
}
