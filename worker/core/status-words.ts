// The words every surface uses for a component's status: the page's label, the Statuspage v2 status
// (which has no word for "we do not know", so unverified and stopped go out as degraded, never as
// operational), and the badge. The README's table of states is checked against this file.
import type { ComponentStatus } from './component-view.ts';

export interface StatusWords {
  /** What the status page shows. */
  label: string;
  /** Statuspage's component status in the v2 JSON (`status`); ours is in `blindspot_status`. */
  statuspage: 'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage' | 'under_maintenance';
  badge: { message: string; color: string };
}

export const STATUS_WORDS: Record<ComponentStatus, StatusWords> = {
  operational: { label: 'Operational', statuspage: 'operational', badge: { message: 'operational', color: 'brightgreen' } },
  degraded_performance: {
    label: 'Degraded performance',
    statuspage: 'degraded_performance',
    badge: { message: 'degraded', color: 'yellow' },
  },
  partial_outage: { label: 'Partial outage', statuspage: 'partial_outage', badge: { message: 'partial outage', color: 'orange' } },
  major_outage: { label: 'Major outage', statuspage: 'major_outage', badge: { message: 'major outage', color: 'red' } },
  under_maintenance: { label: 'Under maintenance', statuspage: 'under_maintenance', badge: { message: 'maintenance', color: 'blue' } },
  unverified: { label: 'Unverified', statuspage: 'degraded_performance', badge: { message: 'unverified', color: 'lightgrey' } },
  stopped: {
    label: 'Stopped on purpose',
    statuspage: 'degraded_performance',
    badge: { message: 'stopped on purpose', color: 'lightgrey' },
  },
};
