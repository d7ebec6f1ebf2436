// Which notifications a set of changes queues: a paged window's trigger to its routed channels; its
// escalation and resolve to those and to every channel that got the trigger; a close cancels the
// reminders still waiting. Windows recorded without paging queue nothing. Pure.
import type { WatchConfig } from '../../config/resolve.ts';
import type { Change } from './agent-state.ts';
import type { BlindWindow } from './blind-window.ts';
import { windowContext } from './monitor-defs.ts';
import { deliveriesFor, type Delivery, type RoutingTable } from './routing.ts';
import { windowEvent, type WindowEvent } from './window-event.ts';

export type NotificationStep =
  | { type: 'send'; event: WindowEvent; deliveries: Delivery[]; followUp: boolean }
  | { type: 'cancel_repeats'; windowId: string };

export function notificationSteps(changes: readonly Change[], routing: RoutingTable, config: WatchConfig, now: number): NotificationStep[] {
  const steps: NotificationStep[] = [];
  const send = (type: 'window.opened' | 'window.escalated' | 'window.closed', w: BlindWindow) =>
    steps.push({
      type: 'send',
      event: windowEvent(type, w, now, windowContext(config, w)),
      deliveries: deliveriesFor(routing, w),
      followUp: type !== 'window.opened',
    });
  for (const change of changes) {
    switch (change.type) {
      case 'window_opened':
        if (change.window.paged) send('window.opened', change.window);
        break;
      case 'window_paged':
        send('window.opened', change.window);
        break;
      case 'window_escalated':
        if (change.window.paged) send('window.escalated', change.window);
        break;
      case 'window_closed':
        if (change.window.paged) {
          steps.push({ type: 'cancel_repeats', windowId: change.window.id });
          send('window.closed', change.window);
        }
        break;
    }
  }
  return steps;
}
