// The D1 rows one evaluation produces: agent row and events, windows, public auto-incidents, and any
// complete rollups. Returned as compiled queries: the object queues them as one batch for D1.
import type { CompiledQuery } from 'kysely';
import type { WatchConfig } from '../../config/resolve.ts';
import { type Change, type LiveState, SILENCE_MONITOR } from '../core/agent-state.ts';
import type { BlindWindow } from '../core/blind-window.ts';
import type { RollupFlush } from '../core/rollup.ts';
import { closingText, openingText } from '../core/auto-incident.ts';
import { insertAgentEvent, upsertAgent } from './agents.ts';
import type { Db } from './db.ts';
import { openAutoIncident, resolveAutoIncident } from './notices.ts';
import { writeRollups } from './rollups.ts';
import { upsertWindow } from './windows.ts';

const AGENT_LEVEL = new Set(['first_seen', 'restarted', 'stopping']);

export interface WriteOptions {
  config: WatchConfig;
  now: number;
  /** Orders the rows in D1 by the object's decisions (Replicator.decisionStamp). */
  stamp: number;
}

/** D1's history of one evaluation. Notifications are not here: they live in the object's own outbox. */
export function transitionWrites(
  db: Db,
  next: LiveState,
  changes: readonly Change[],
  rollups: RollupFlush | null,
  options: WriteOptions,
): CompiledQuery[] {
  const { now, stamp } = options;
  const queries: CompiledQuery[] = [];
  // A customer-facing component says so publicly: opened with the page, resolved with the close.
  const publicIncident = (type: 'opened' | 'closed', w: BlindWindow) => {
    const component = options.config.components.find((c) => c.id === w.component);
    if (!component?.autoIncident) return;
    if (type === 'opened') queries.push(...openAutoIncident(db, w, openingText(w, component.name), component.id, now));
    else queries.push(...resolveAutoIncident(db, w.id, closingText(w), now));
  };
  const silence = SILENCE_MONITOR[next.kind];
  // The agents row follows the agent as a whole: written on first sight, restart, stop, silence.
  if (changes.some((c) => AGENT_LEVEL.has(c.type) || ('window' in c && c.window.monitor === silence)))
    queries.push(upsertAgent(db, next, stamp));
  for (const change of changes) {
    switch (change.type) {
      case 'first_seen':
        queries.push(insertAgentEvent(db, next.agentId, now, 'first_seen', null));
        break;
      case 'restarted':
        queries.push(insertAgentEvent(db, next.agentId, now, 'restarted', `previous boot ${change.previousBoot}, new boot ${next.boot}`));
        break;
      case 'stopping':
        queries.push(insertAgentEvent(db, next.agentId, now, 'stopping', null));
        break;
      case 'window_opened':
        queries.push(...upsertWindow(db, change.window, stamp));
        if (change.window.paged) publicIncident('opened', change.window);
        break;
      case 'window_paged':
        queries.push(...upsertWindow(db, change.window, stamp));
        publicIncident('opened', change.window);
        break;
      case 'window_escalated':
      case 'window_updated':
        queries.push(...upsertWindow(db, change.window, stamp));
        break;
      case 'window_closed':
        queries.push(...upsertWindow(db, change.window, stamp));
        if (change.window.paged) publicIncident('closed', change.window);
        break;
    }
  }
  if (rollups !== null) queries.push(...writeRollups(db, next.agentId, rollups));
  return queries;
}
