// The D1 rows one evaluation produces: agent row and events, windows, and the outbox rows that go
// with them (one per routed channel), plus any complete rollups. Returned as compiled queries so a
// window change and its notifications land in one batch, or neither does.
import type { CompiledQuery } from 'kysely';
import type { WatchConfig } from '../../config/resolve.ts';
import { type Change, type LiveState, SILENCE_MONITOR } from '../core/agent-state.ts';
import type { BlindWindow } from '../core/blind-window.ts';
import { windowContext } from '../core/monitor-defs.ts';
import type { RollupFlush } from '../core/rollup.ts';
import { deliveriesFor, type RoutingTable } from '../core/routing.ts';
import { windowEvent, type WindowEventType } from '../core/window-event.ts';
import { closingText, openingText } from '../core/auto-incident.ts';
import { insertAgentEvent, upsertAgent } from './agents.ts';
import type { Db } from './db.ts';
import { cancelRepeats, enqueueEvent, enqueueFollowUp } from './outbox.ts';
import { openAutoIncident, resolveAutoIncident } from './notices.ts';
import { writeRollups } from './rollups.ts';
import { closeWindow, insertWindow, updateWindow } from './windows.ts';

const AGENT_LEVEL = new Set(['first_seen', 'restarted', 'stopping']);

export interface WriteOptions {
  routing: RoutingTable;
  config: WatchConfig;
  now: number;
}

export function transitionWrites(db: Db, next: LiveState, changes: readonly Change[], rollups: RollupFlush | null, options: WriteOptions): CompiledQuery[] {
  const { now } = options;
  const queries: CompiledQuery[] = [];
  const notify = (type: Exclude<WindowEventType, 'watchdog.summary' | 'window.repeat'>, w: BlindWindow) => {
    const event = windowEvent(type, w, now, windowContext(options.config, w));
    const deliveries = deliveriesFor(options.routing, w);
    if (deliveries.length > 0) queries.push(...enqueueEvent(db, event, deliveries, now));
    if (type !== 'window.opened') queries.push(enqueueFollowUp(db, event, now));
    // A customer-facing component says so publicly: opened with the page, resolved with the close.
    const component = options.config.components.find((c) => c.id === w.component);
    if (component?.autoIncident && type === 'window.opened') queries.push(...openAutoIncident(db, w, openingText(w, component.name), component.id, now));
    if (component?.autoIncident && type === 'window.closed') queries.push(...resolveAutoIncident(db, w.id, closingText(w), now));
  };
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
        if (change.window.paged) notify('window.opened', change.window);
        break;
      case 'window_paged':
        queries.push(updateWindow(db, change.window));
        notify('window.opened', change.window);
        break;
      case 'window_escalated':
        queries.push(updateWindow(db, change.window));
        if (change.window.paged) notify('window.escalated', change.window);
        break;
      case 'window_closed':
        queries.push(closeWindow(db, change.window, change.window.endedAt ?? now));
        if (change.window.paged) {
          queries.push(cancelRepeats(db, change.window.id, now));
          notify('window.closed', change.window);
        }
        break;
    }
  }
  if (rollups !== null) queries.push(...writeRollups(db, next.agentId, rollups));
  return queries;
}
