import type { AgentView, Overall } from '../../worker/core/agent-view.ts';
import { AgentRow } from '../components/agent-row.tsx';
import { PageShell } from '../components/page-shell.tsx';
import { isoTime } from '../relative-time.ts';

export interface StatusPageProps {
  title: string;
  now: number;
  overall: Overall;
  agents: readonly AgentView[];
}

const SENTENCE: Record<Overall, string> = {
  operational: 'All monitoring is verified and seeing production.',
  degraded: 'Reduced visibility: some monitoring is degraded, so status may be incomplete.',
  blind: 'Monitoring is blind: an agent has gone silent or a pipeline it watches is blind.',
  unverified: 'Status not verified: some data is missing or older than its deadline.',
};

export function StatusPage(props: StatusPageProps) {
  return (
    <PageShell title={props.title} refreshS={15}>
      <h1>{props.title}</h1>
      <p class={`overall ${props.overall}`} role="status">{SENTENCE[props.overall]}</p>
      <h2>Agents</h2>
      {props.agents.length === 0 ? (
        <p>No agents are configured yet.</p>
      ) : (
        <ul>
          {props.agents.map((view) => (
            <AgentRow key={view.agentId} view={view} now={props.now} />
          ))}
        </ul>
      )}
      <footer>
        Rendered <time datetime={isoTime(props.now)}>{isoTime(props.now)}</time> by Blindspot, which runs apart from the monitoring it watches. This page refreshes every 15 s.
      </footer>
    </PageShell>
  );
}
