// The D1 rows one evaluation produces: agent row and events, windows, and the outbox rows that go
// with them, plus any complete rollups. Returned as compiled queries so they land in one batch.
import type { CompiledQuery } from 'kysely';
import { type Change, type LiveState, SILENCE_MONITOR } from '../core/agent-state.ts';
import type { RollupFlush } from '../core/rollup.ts';
import { windowEvent } from '../core/window-event.ts';
import { insertAgentEvent, upsertAgent } from './agents.ts';
import type { Db } from './db.ts';
import { enqueueEvent } from './outbox.ts';
import { writeRollups } from './rollups.ts';
import { closeWindow, insertWindow, updateWindow } from './windows.ts';

const AGENT_LEVEL = new Set(['first_seen', 'restarted', 'stopping']);

export function transitionWrites(db: Db, next: LiveState, changes: readonly Change[], rollups: RollupFlush | null, options: { notify: boolean; now: number }): CompiledQuery[] {
  const { notify, now } = options;
  const queries: CompiledQuery[] = [];
  const silence = SILENCE_MONITOR[next.kind];
  // The agents row follows the agent as a whole: written on first sight, restart, stop, silence.
  if (changes.some((c) => AGENT_LEVEL.has(c.type) || ('window' in c && c.window.monitor === silence))) queries.push(upsertAgent(db, next, now));
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
        queries.push(insertWindow(db, change.window));
        if (notify && change.window.paged) queries.push(enqueueEvent(db, windowEvent('window.opened', change.window, now), now));
        break;
      case 'window_paged':
        queries.push(updateWindow(db, change.window));
        if (notify) queries.push(enqueueEvent(db, windowEvent('window.opened', change.window, now), now));
        break;
      case 'window_escalated':
        queries.push(updateWindow(db, change.window));
        if (notify && change.window.paged) queries.push(enqueueEvent(db, windowEvent('window.escalated', change.window, now), now));
        break;
      case 'window_closed':
        queries.push(closeWindow(db, change.window, change.window.endedAt ?? now));
        if (notify && change.window.paged) queries.push(enqueueEvent(db, windowEvent('window.closed', change.window, now), now));
        break;
    }
  }
  if (rollups !== null) queries.push(...writeRollups(db, next.agentId, rollups));
  return queries;
}
