// The watchdog's configuration: components, monitors, Alertmanager sources, maintenance windows.
// One file (blindspot.config.yaml), validated when the Worker loads and by `npm run check-config`.
// Every key is optional; the defaults below are what a new deployment gets by writing nothing.
import * as v from 'valibot';
import { DURATION_PATTERN, durationSeconds, seconds } from './duration.ts';

import { SIGNAL_KINDS } from '../protocol/heartbeat.ts';
import { MONITOR_CAUSES } from '../worker/core/blind-window.ts';
import { GLOB_HINT, isGlob } from '../worker/core/glob.ts';

export const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

const idHint = 'lower case letters, digits and _ . - (1 to 63 characters, starting with a letter or digit)';

const id = (field: string) => v.pipe(v.string(`${field} is a string`), v.regex(ID_PATTERN, `${field} uses ${idHint}`));
const count = (field: string, min: number, max: number) =>
  v.pipe(
    v.number(`${field} is a whole number`),
    v.integer(`${field} is a whole number`),
    v.minValue(min, `${field} is at least ${min}`),
    v.maxValue(max, `${field} is at most ${max}`),
  );
const ratio = (field: string) =>
  v.pipe(v.number(`${field} is a number between 0 and 1`), v.minValue(0, `${field} is at least 0`), v.maxValue(1, `${field} is at most 1`));
const glob = (field: string) =>
  v.pipe(v.string(`${field} is a name or a glob such as "metrics.*"`), v.check(isGlob, `${field} ${GLOB_HINT}`));
const timestamp = (field: string) =>
  v.pipe(
    v.string(`${field} is an RFC 3339 time such as 2026-11-22T02:00:00Z`),
    v.check(
      (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && Number.isFinite(Date.parse(s)),
      `${field} must be an RFC 3339 time with a zone, such as 2026-11-22T02:00:00Z`,
    ),
  );

/** One message for the three ways a mapping goes wrong: a key missing, a key unknown, not a mapping. */
const strict = <T extends v.ObjectEntries>(entries: T, what: string) =>
  v.strictObject(entries, (issue) => {
    const keys = Object.keys(entries).join(', ');
    if (issue.received === 'undefined') return `is required: ${what} takes ${keys}`;
    if (issue.expected === 'Object') return `${what} is a mapping of ${keys}, not ${String(issue.received)}`;
    return `unknown key ${String(issue.received)}: ${what} takes ${keys}`;
  });

/**
 * A bad run must hold this long before a window opens: both conditions, when both are given. A
 * Prometheus duration ("for: 2m", as an alerting rule writes it) means that long, from one heartbeat.
 */
const hold = (what: string) =>
  v.union(
    [
      v.pipe(
        v.string(),
        v.regex(DURATION_PATTERN, `${what} is a duration such as 30s, 2m or 1h30m, or { heartbeats, seconds }`),
        v.check((t) => (durationSeconds(t) ?? Number.POSITIVE_INFINITY) <= 86_400, `${what} is at most 1d`),
        v.transform((t) => ({ heartbeats: 1, seconds: durationSeconds(t) ?? 0 })),
      ),
      strict({ heartbeats: v.optional(count('heartbeats', 1, 1000)), seconds: v.optional(seconds('seconds', 0, 86_400)) }, what),
    ],
    `${what} is a duration such as 30s, 2m or 1h30m (at most 1d), or { heartbeats, seconds }`,
  );
const ForSchema = hold('"for"');
const RecoverForSchema = hold('"recover_for"');

/** Thresholds of one level. Which keys apply depends on the signal kind (see docs/configuration.md). */
const ThresholdSchema = strict(
  {
    max_age_s: v.optional(seconds('max_age_s', 0, 30 * 86_400)),
    min_ratio: v.optional(ratio('min_ratio')),
    drop_below: v.optional(ratio('drop_below')),
    max: v.optional(v.pipe(v.number('max is a number'), v.minValue(0, 'max is at least 0'))),
    max_ratio: v.optional(
      v.pipe(v.number('max_ratio is a number'), v.minValue(0, 'max_ratio is at least 0'), v.maxValue(10, 'max_ratio is at most 10')),
    ),
  },
  'a threshold',
);

const FlappingSchema = strict(
  {
    transitions: v.optional(count('transitions', 2, 1000)),
    within_s: v.optional(seconds('within_s', 10, 86_400)),
    stable_s: v.optional(seconds('stable_s', 0, 86_400)),
  },
  '"flapping"',
);

const KindRulesSchema = strict({ degraded: v.optional(ThresholdSchema), blind: v.optional(ThresholdSchema) }, 'a kind rule');

const MonitorSchema = v.pipe(
  strict(
    {
      id: id('id'),
      name: v.optional(v.pipe(v.string(), v.maxLength(100, 'name is at most 100 characters'))),
      component: v.optional(id('component')),
      agent: v.optional(glob('agent')),
      signal: v.optional(glob('signal')),
      kind: v.optional(v.picklist(SIGNAL_KINDS, `kind is one of ${SIGNAL_KINDS.join(', ')}`)),
      degraded: v.optional(ThresholdSchema),
      blind: v.optional(ThresholdSchema),
      for: v.optional(ForSchema),
      recover_for: v.optional(RecoverForSchema),
      flapping: v.optional(FlappingSchema),
      severity: v.optional(v.picklist(SEVERITIES, `severity is one of ${SEVERITIES.join(', ')}`)),
      depends_on: v.optional(v.pipe(v.array(id('depends_on[]')), v.maxLength(16, 'at most 16 dependencies'))),
      /** What a breach of this monitor means, where the signal's kind alone says something vaguer. */
      cause: v.optional(v.picklist(MONITOR_CAUSES, `cause is one of ${MONITOR_CAUSES.join(', ')}`)),
    },
    'a monitor',
  ),
  v.check(
    (m) => m.signal !== undefined || m.kind !== undefined,
    'a monitor selects signals: give "signal" (a name or glob such as "metrics.*"), "kind", or both',
  ),
);

const ComponentSchema = strict(
  {
    id: id('id'),
    name: v.pipe(
      v.string('name is the text customers see, e.g. "Metrics pipeline"'),
      v.minLength(1),
      v.maxLength(100, 'name is at most 100 characters'),
    ),
    group: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
    description: v.optional(v.pipe(v.string(), v.maxLength(500))),
    /** Customer-facing: a paged window on it opens a public incident, resolved when the window closes. */
    auto_incident: v.optional(v.boolean('auto_incident is true or false')),
  },
  'a component',
);

const AlertmanagerSourceSchema = strict(
  {
    id: id('id'),
    interval_s: seconds('interval_s (the repeat_interval of the Watchdog route)', 1, 86_400),
    grace_s: v.optional(seconds('grace_s', 0, 86_400)),
    alertname: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), 'Watchdog'),
    component: v.optional(id('component')),
    /** A Watchdog whose blindspot_evaluated_at annotation is older than this is not proof the path is alive. */
    max_age_s: v.optional(seconds('max_age_s', 30, 86_400)),
  },
  'an alertmanager source',
);

const MaintenanceSchema = v.pipe(
  strict(
    {
      id: id('id'),
      starts_at: timestamp('starts_at'),
      ends_at: timestamp('ends_at'),
      agents: v.optional(v.array(glob('agents[]'))),
      monitors: v.optional(v.array(glob('monitors[]'))),
      reason: v.optional(v.pipe(v.string(), v.maxLength(500))),
    },
    'a maintenance window',
  ),
  v.check((m) => Date.parse(m.ends_at) > Date.parse(m.starts_at), 'ends_at must be after starts_at'),
);

export const CHANNEL_TYPES = ['pagerduty', 'opsgenie', 'slack', 'discord', 'teams', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Where notifications go. Secrets (routing keys, webhook URLs) are not here: they come from BLINDSPOT_CHANNEL_SECRETS. */
const ChannelSchema = strict(
  {
    id: id('id'),
    type: v.picklist(CHANNEL_TYPES, `type is one of ${CHANNEL_TYPES.join(', ')}`),
    /** Opsgenie only: which Opsgenie instance the API key belongs to. */
    region: v.optional(v.picklist(['us', 'eu'], 'region is "us" or "eu"')),
    /** Overrides the provider's endpoint (PagerDuty and Opsgenie; a proxy, or a test receiver). */
    endpoint: v.optional(
      v.pipe(
        v.string('endpoint is an http(s) URL'),
        v.check((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'endpoint must be an http(s) URL'),
      ),
    ),
    timeout_s: v.optional(seconds('timeout_s', 1, 30)),
  },
  'a channel (its key or URL goes in the Worker secret BLINDSPOT_CHANNEL_SECRETS, never in this file)',
);

const RouteSchema = strict(
  {
    channels: v.pipe(v.array(id('channels[]'), 'channels is a list of channel ids'), v.minLength(1, 'a route names at least one channel')),
    monitors: v.optional(v.array(glob('monitors[]'))),
    components: v.optional(v.array(id('components[]'))),
    agents: v.optional(v.array(glob('agents[]'))),
    severities: v.optional(v.array(v.picklist(SEVERITIES, `severities[] is one of ${SEVERITIES.join(', ')}`))),
    repeat_interval_s: v.optional(seconds('repeat_interval_s (0 turns repeats off)', 0, 7 * 86_400)),
  },
  'a route',
);

const NotificationsSchema = strict(
  {
    /** Public base URL of this Worker: notifications link to its status page and gap report. */
    public_url: v.optional(
      v.pipe(
        v.string('public_url is an http(s) URL'),
        v.check(
          (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
          'public_url must be an http(s) URL such as https://status.example.com',
        ),
      ),
    ),
    repeat_interval_s: v.optional(seconds('repeat_interval_s (0 turns repeats off)', 0, 7 * 86_400)),
    give_up_after_s: v.optional(seconds('give_up_after_s', 60, 7 * 86_400)),
    channels: v.optional(v.pipe(v.array(ChannelSchema), v.maxLength(50, 'at most 50 channels'))),
    routes: v.optional(v.pipe(v.array(RouteSchema), v.maxLength(100, 'at most 100 routes'))),
  },
  '"notifications"',
);

const DefaultsSchema = strict(
  {
    component: v.optional(id('component')),
    for: v.optional(ForSchema),
    recover_for: v.optional(RecoverForSchema),
    flapping: v.optional(FlappingSchema),
    clock_skew_s: v.optional(seconds('clock_skew_s', 1, 3600)),
    kinds: v.optional(
      strict(
        {
          freshness: v.optional(KindRulesSchema),
          sampling: v.optional(KindRulesSchema),
          dropped: v.optional(KindRulesSchema),
          queue_age: v.optional(KindRulesSchema),
          saturation: v.optional(KindRulesSchema),
        },
        '"defaults.kinds"',
      ),
    ),
  },
  '"defaults"',
);

/** The silence monitor every agent and Alertmanager source gets: a missed deadline opens its window. */
const SilenceSchema = strict(
  {
    recover_for: v.optional(RecoverForSchema),
    flapping: v.optional(FlappingSchema),
    /** How long a goodbye (`stopping: true`) is believed: a host that never comes back pages after it. */
    max_stopped_s: v.optional(seconds('max_stopped_s', 60, 30 * 86_400)),
    /** The longest interval_s and grace_s a heartbeat may declare: no agent may vouch for itself for a day. */
    max_interval_s: v.optional(seconds('max_interval_s', 1, 3600)),
    max_grace_s: v.optional(seconds('max_grace_s', 0, 86_400)),
  },
  '"silence"',
);

const GapReportSchema = strict(
  {
    /** Whether /gaps and /api/v1/gaps answer anyone; otherwise they need an admin token with the "read" scope. */
    public: v.optional(v.boolean('public is true or false')),
    /** The coverage objective each pipeline is held to, e.g. 0.999 for 99.9 % observable. */
    objective: v.optional(
      v.pipe(
        v.number('objective is a ratio such as 0.999'),
        v.minValue(0.5, 'objective is at least 0.5'),
        v.maxValue(0.99999, 'objective is at most 0.99999 (a budget of zero cannot burn)'),
      ),
    ),
  },
  '"gap_report"',
);

export const ConfigFileSchema = strict(
  {
    $schema: v.optional(v.string()),
    defaults: v.optional(DefaultsSchema),
    components: v.optional(v.pipe(v.array(ComponentSchema), v.maxLength(200, 'at most 200 components'))),
    monitors: v.optional(v.pipe(v.array(MonitorSchema), v.maxLength(500, 'at most 500 monitors'))),
    silence: v.optional(SilenceSchema),
    alertmanager: v.optional(strict({ sources: v.array(AlertmanagerSourceSchema) }, '"alertmanager"')),
    maintenance: v.optional(v.array(MaintenanceSchema)),
    notifications: v.optional(NotificationsSchema),
    gap_report: v.optional(GapReportSchema),
  },
  'the configuration file',
);

export type ConfigFile = v.InferOutput<typeof ConfigFileSchema>;
export type MonitorInput = v.InferOutput<typeof MonitorSchema>;
export type ThresholdInput = v.InferOutput<typeof ThresholdSchema>;
