// Which channels hear about a window, and how often they are reminded while it stays open.
// Pure: the configuration's routes, plus any channel set up outside the file (the legacy
// BLINDSPOT_WEBHOOK_URL), which hears everything.
import type { Notifications, Route } from '../../config/resolve.ts';
import type { BlindWindow } from './blind-window.ts';
import { matchesGlob } from './glob.ts';

export interface Delivery {
  channel: string;
  /** 0 = no repeats. */
  repeatIntervalS: number;
}

export interface RoutingTable {
  routes: readonly Route[];
}

/** Routes in force: the configured ones, or (when none are written) one route sending everything to every channel. */
export function routingTable(notifications: Notifications, extraChannels: readonly string[]): RoutingTable {
  const defaultRepeatS = notifications.repeatIntervalS;
  const routes: Route[] =
    notifications.routes.length > 0
      ? [...notifications.routes]
      : notifications.channels.length > 0
        ? [
            everything(
              notifications.channels.map((c) => c.id),
              defaultRepeatS,
            ),
          ]
        : [];
  const configured = new Set(notifications.channels.map((c) => c.id));
  const extra = extraChannels.filter((c) => !configured.has(c));
  if (extra.length > 0) routes.push(everything(extra, defaultRepeatS));
  return { routes };
}

function everything(channels: string[], repeatIntervalS: number): Route {
  return { channels, monitors: ['*'], components: null, agents: ['*'], severities: null, repeatIntervalS };
}

type Routable = Pick<BlindWindow, 'agentId' | 'monitor' | 'component' | 'severity'>;

export function matches(route: Route, w: Routable): boolean {
  return (
    route.monitors.some((g) => matchesGlob(g, w.monitor)) &&
    route.agents.some((g) => matchesGlob(g, w.agentId)) &&
    (route.components === null || route.components.includes(w.component)) &&
    (route.severities === null || route.severities.includes(w.severity))
  );
}

/** Each channel once; when two matching routes name it, the shorter (non-zero) repeat interval wins. */
export function deliveriesFor(table: RoutingTable, w: Routable): Delivery[] {
  const byChannel = new Map<string, number>();
  for (const route of table.routes) {
    if (!matches(route, w)) continue;
    for (const channel of route.channels) {
      const had = byChannel.get(channel);
      byChannel.set(channel, had === undefined ? route.repeatIntervalS : shorterRepeat(had, route.repeatIntervalS));
    }
  }
  return [...byChannel].map(([channel, repeatIntervalS]) => ({ channel, repeatIntervalS }));
}

/** The watchdog's own summary concerns no single monitor: every routed channel hears it once. */
export function summaryChannels(table: RoutingTable): string[] {
  return [...new Set(table.routes.flatMap((r) => r.channels))];
}

function shorterRepeat(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}
