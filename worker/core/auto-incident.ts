// The public incident a paged window opens on a customer-facing component (`auto_incident: true`):
// its id and its words. People can correct the words afterwards through the admin API. Pure.
import type { BlindWindow } from './blind-window.ts';

/** A stable 12-character id from the window id, so a retried write can never open a second incident. */
export function autoIncidentId(windowId: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < windowId.length; i++) {
    const c = windowId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `a${(h1.toString(36) + h2.toString(36)).padEnd(11, '0').slice(0, 11)}`;
}

const WHAT: Record<string, string> = {
  agent_silent: 'the agent that watches it stopped reporting',
  alert_path_silent: 'the alert path stopped reporting',
  stale: 'its monitoring data stopped arriving on time',
  unknown: 'its monitoring could not be measured',
  dropped: 'its monitoring is dropping data',
  queue_backlog: 'its monitoring is falling behind',
  queue_full: 'its monitoring queues are full',
  sampling_low: 'its monitoring is sampling too little',
  sampling_drop: 'its monitoring sampling dropped sharply',
  alert_rules_silent: 'alerting rules that watch it can no longer fire',
  rules_behind: 'the rules that watch it are evaluating late',
  config_reload_failed: 'its monitoring configuration failed to reload',
  targets_missing: 'parts of its monitoring discover nothing to scrape',
  alerts_silenced: 'its alerts are silenced',
};

export function openingText(w: BlindWindow, componentName: string): { name: string; body: string; impact: 'minor' | 'major' } {
  const why = WHAT[w.cause] ?? `its monitoring reported ${w.cause.replace(/_/g, ' ')}`;
  return {
    name: `${componentName}: we cannot currently verify its status`,
    body: `Our independent watchdog lost sight of ${componentName} at ${new Date(w.startedAt).toISOString()}: ${why}. The service itself may be fine; we are investigating.`,
    impact: w.level === 'blind' ? 'major' : 'minor',
  };
}

export function closingText(w: BlindWindow): string {
  const minutes = Math.max(1, Math.round(((w.endedAt ?? w.startedAt) - w.startedAt) / 60_000));
  return `Visibility was restored at ${new Date(w.endedAt ?? w.startedAt).toISOString()}, after about ${minutes} min.`;
}
