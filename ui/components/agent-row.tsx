import type { AgentView, DisplayState } from '../../worker/core/agent-view.ts';
import { formatAgo, isoTime } from '../relative-time.ts';

export const STATE_LABEL: Record<DisplayState, string> = {
  operational: 'Operational',
  degraded: 'Degraded',
  blind: 'Blind',
  stopped: 'Stopped on purpose',
  unverified: 'Unverified',
  no_data: 'No heartbeat yet',
};

function detail(view: AgentView, now: number): string {
  const worst = view.troubled[0];
  if (view.state === 'blind' && worst !== undefined && view.blindSince === worst.since)
    return `${worst.id} ${worst.state} since ${formatAgo(worst.since, now)}`;
  if (view.state === 'blind' && view.blindSince !== null) return `silent since ${formatAgo(view.blindSince, now)}`;
  if (view.state === 'degraded' && worst !== undefined)
    return `${worst.id} ${worst.flapping ? 'flapping' : 'degraded'} since ${formatAgo(worst.since, now)}`;
  if (view.state === 'stopped') return 'announced its stop: silence expected, nothing it watched is verified';
  if (view.state === 'unverified') return `state not verified: ${view.why ?? 'heartbeat overdue'}`;
  if (view.state === 'no_data') return 'never heard from';
  return '';
}

export function AgentRow({ view, now }: { view: AgentView; now: number }) {
  const note = detail(view, now);
  return (
    <li class="row">
      <span class="name">{view.agentId}</span>
      <span>
        <span class={`state ${view.state}`}>{STATE_LABEL[view.state]}</span>
        {note && <span class="meta"> · {note}</span>}
        <br />
        <span class="meta">
          {view.verifiedAt === null ? (
            'never verified'
          ) : (
            <>
              verified{' '}
              <time datetime={new Date(view.verifiedAt).toISOString()} title={isoTime(view.verifiedAt)}>
                {formatAgo(view.verifiedAt, now)}
              </time>
            </>
          )}
        </span>
      </span>
    </li>
  );
}
