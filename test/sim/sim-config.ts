// The watchdog configuration the simulator runs with (bound as BLINDSPOT_CONFIG in its workerd), and
// its channels. The channels' hosts never resolve: the simulator's network answers them (net.ts).
// Flapping settles after 5 stable minutes (10 by default), so the healing phase after each schedule
// (HEAL in world.ts, 7 minutes: past this and the 5-minute retry ceiling) ends every window.
export const SIM_CONFIG = {
  components: [{ id: 'metrics', name: 'Metrics pipeline' }],
  defaults: { component: 'metrics', flapping: { stable_s: 300 } },
  silence: { flapping: { stable_s: 300 } },
  monitors: [{ id: 'fresh', signal: 'metrics.freshness', kind: 'freshness', blind: { max_age_s: 60 } }],
  notifications: {
    channels: [
      { id: 'pd', type: 'pagerduty', endpoint: 'http://pd.sim.invalid' },
      { id: 'hook', type: 'webhook', timeout_s: 1 },
    ],
    routes: [{ channels: ['pd', 'hook'], repeat_interval_s: 600 }],
  },
};

export const SIM_CHANNEL_SECRETS = {
  pd: 'S1MR0UT1NGKEYS1MR0UT1NGKEYS1M012',
  hook: { url: 'http://hook.sim.invalid/in', secret: 'whsec_Zq4mT7vB1nX8cR3kP6wY9sJdL2fHgE5a' },
};

export const CHANNELS = ['pd', 'hook'] as const;
export type ChannelId = (typeof CHANNELS)[number];
