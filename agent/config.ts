// The agent's configuration: parsed once at start, with errors that name the field and the fix.
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { durationSeconds, seconds } from '../config/duration.ts';
import { locateIssues, readYaml, type Segment } from '../config/positions.ts';
import { AGENT_ID_PATTERN, describeIssues, SIGNAL_KINDS } from '../protocol/heartbeat.ts';
import { decodeSecret, InvalidSecretError } from '../protocol/signature.ts';

export class ConfigError extends Error {}

const httpUrl = (field: string) =>
  v.pipe(
    v.string(`${field} is a URL`),
    v.check((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), `${field} must be an http:// or https:// URL`),
  );

const signalName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'name uses letters, digits and _ . : - (for example "metrics.freshness")'),
);
const labels = v.optional(
  v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/, 'label names look like Prometheus labels')), v.string()),
  {},
);

const timeout = v.optional(seconds('timeout_s', 0.1, 60), 5);
/** One message for the three ways a mapping goes wrong: a key missing, a key unknown, not a mapping. */
const unknownKey = (type: string, keys: string) => (issue: { received: string; expected: string | null }) =>
  issue.received === 'undefined'
    ? `is required: a ${type} probe takes ${keys}`
    : issue.expected === 'Object'
      ? `a ${type} probe is a mapping of ${keys}, not ${issue.received}`
      : `unknown key ${issue.received}: a ${type} probe takes ${keys}`;

const PrometheusFreshnessSchema = v.strictObject(
  {
    type: v.literal('prometheus_freshness'),
    name: v.optional(signalName, 'metrics.freshness'),
    url: httpUrl('url'),
    selector: v.pipe(v.string('selector is a PromQL series selector, e.g. up{job="node"}'), v.minLength(1, 'selector cannot be empty')),
    timeout_s: timeout,
    labels,
  },
  unknownKey('prometheus_freshness', 'type, name, url, selector, timeout_s, labels'),
);

const FreshnessEntrySchema = v.pipe(
  v.strictObject(
    {
      name: v.optional(signalName, 'metrics.freshness'),
      selector: v.optional(
        v.pipe(v.string('selector is a PromQL series selector, e.g. node_load1{job="node"}'), v.minLength(1, 'selector cannot be empty')),
      ),
      job: v.optional(v.pipe(v.string('job is a scrape job name'), v.minLength(1, 'job cannot be empty'))),
      lookback: v.optional(
        v.pipe(v.string(), v.regex(/^[1-9][0-9]{0,3}[mhd]$/, 'lookback is a Prometheus duration in minutes, hours or days, e.g. 1h')),
        '1h',
      ),
      labels,
    },
    unknownKey('freshness entry of a prometheus', 'name, selector or job, lookback, labels'),
  ),
  v.check(
    (f) => (f.selector === undefined) !== (f.job === undefined),
    'give exactly one of selector (a PromQL series selector) or job (a scrape job name)',
  ),
);

const AlertRulesSchema = v.strictObject(
  {
    lookback: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[1-9][0-9]{0,4}[smhd]$/, 'lookback is a Prometheus duration in seconds, minutes, hours or days, e.g. 10m'),
      ),
      '10m',
    ),
    recheck_s: v.optional(seconds('recheck_s', 5, 86_400), 300),
    max_queries: v.optional(
      v.pipe(v.number('max_queries is a number'), v.integer('max_queries is a whole number'), v.minValue(1), v.maxValue(500)),
      25,
    ),
  },
  unknownKey('alert_rules entry of a prometheus', 'lookback, recheck_s, max_queries'),
);

const PrometheusSchema = v.strictObject(
  {
    type: v.literal('prometheus'),
    name: v.optional(signalName, 'prometheus'),
    url: httpUrl('url'),
    timeout_s: timeout,
    freshness: v.optional(
      v.pipe(
        v.array(FreshnessEntrySchema, 'freshness is a list of { selector | job, name, labels }'),
        v.maxLength(32, 'at most 32 freshness entries'),
      ),
      [],
    ),
    remote_write: v.optional(v.union([v.boolean(), v.literal('auto')], 'remote_write is auto, true or false'), 'auto'),
    /** Check that every alerting rule's input series exist; false turns it off. */
    alert_rules: v.optional(
      v.union([v.literal(false), AlertRulesSchema], 'alert_rules is false or { lookback, recheck_s, max_queries }'),
      {},
    ),
    labels,
  },
  unknownKey('prometheus', 'type, name, url, timeout_s, freshness, remote_write, alert_rules, labels'),
);

const AlertmanagerSchema = v.strictObject(
  {
    type: v.literal('alertmanager'),
    name: v.optional(signalName, 'alertmanager'),
    url: httpUrl('url'),
    timeout_s: timeout,
    cluster_size: v.optional(
      v.pipe(
        v.number('cluster_size is a number of members'),
        v.integer('cluster_size is a whole number'),
        v.minValue(1, 'cluster_size is at least 1'),
        v.maxValue(64, 'cluster_size is at most 64'),
      ),
    ),
    /** A silence nobody updated for longer is stale (default 7 days); false: silences are not read. */
    silence_max_age_s: v.optional(v.union([v.literal(false), seconds('silence_max_age_s', 60, 366 * 86_400)]), 7 * 86_400),
    labels,
  },
  unknownKey('alertmanager', 'type, name, url, timeout_s, cluster_size, silence_max_age_s, labels'),
);

const CollectorSchema = v.strictObject(
  {
    type: v.literal('otel_collector'),
    name: v.optional(signalName, 'otelcol'),
    url: v.optional(httpUrl('url'), 'http://127.0.0.1:8888/metrics'),
    /** The healthcheckv2 extension's status URL, e.g. http://127.0.0.1:13133/status: per-pipeline health. */
    health_url: v.optional(httpUrl('health_url')),
    timeout_s: timeout,
    labels,
  },
  unknownKey(
    'otel_collector',
    'type, name, url (the metrics URL, default http://127.0.0.1:8888/metrics), health_url (healthcheckv2 status), timeout_s, labels',
  ),
);

const CanarySchema = v.strictObject(
  {
    type: v.literal('pushgateway_canary'),
    name: v.optional(signalName, 'canary'),
    pushgateway_url: httpUrl('pushgateway_url'),
    prometheus_url: httpUrl('prometheus_url'),
    job: v.optional(
      v.pipe(
        v.string('job is a Pushgateway job name'),
        v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'job looks like a Prometheus label value without slashes, e.g. blindspot_canary'),
      ),
      'blindspot_canary',
    ),
    instance: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'instance uses letters, digits and _ . : -'))),
    timeout_s: timeout,
    labels,
  },
  unknownKey('pushgateway_canary', 'type, name, pushgateway_url, prometheus_url, job, instance (default: agent_id), timeout_s, labels'),
);

const PromqlSchema = v.strictObject(
  {
    type: v.literal('promql'),
    name: signalName,
    url: httpUrl('url'),
    query: v.pipe(
      v.string('query is a PromQL expression'),
      v.minLength(1, 'query cannot be empty'),
      v.maxLength(4096, 'query is at most 4096 characters'),
    ),
    kind: v.picklist(SIGNAL_KINDS, `kind is one of ${SIGNAL_KINDS.join(', ')}`),
    unit: v.optional(v.pipe(v.string(), v.maxLength(16, 'unit is at most 16 characters'))),
    timeout_s: timeout,
    on_empty: v.optional(v.picklist(['unknown', 'zero'], 'on_empty is unknown or zero'), 'unknown'),
    series_labels: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'series_labels are Prometheus label names'))),
        v.maxLength(8, 'at most 8 series_labels'),
      ),
      [],
    ),
    labels,
  },
  unknownKey('promql', 'type, name, url, query, kind, unit, timeout_s, on_empty, series_labels, labels'),
);

const DemoSchema = v.strictObject(
  {
    type: v.literal('demo'),
    name: v.optional(signalName, 'demo'),
    labels,
  },
  unknownKey('demo', 'type, name, labels'),
);

export const PROBE_TYPES = [
  'prometheus',
  'alertmanager',
  'otel_collector',
  'pushgateway_canary',
  'promql',
  'prometheus_freshness',
  'demo',
] as const;

const ProbeSchema = v.variant(
  'type',
  [PrometheusSchema, AlertmanagerSchema, CollectorSchema, CanarySchema, PromqlSchema, PrometheusFreshnessSchema, DemoSchema],
  (issue) => `type must be one of ${PROBE_TYPES.join(', ')} (got ${issue.received})`,
);

const TOP_LEVEL_KEYS = [
  'agent_id',
  'worker_url',
  'secret',
  'secret_env',
  'secret_file',
  'interval_s',
  'grace_s',
  'send_timeout_s',
  'spool_dir',
  'spool_max_mb',
  'spool_max_age_h',
  'labels',
  'probes',
] as const;

export const ConfigSchema = v.pipe(
  v.strictObject(
    {
      agent_id: v.pipe(
        v.string('agent_id is required'),
        v.regex(AGENT_ID_PATTERN, 'agent_id matches ^[a-z0-9][a-z0-9_.-]{0,62}$ (lower case, digits, _ . -)'),
      ),
      worker_url: httpUrl('worker_url'),
      secret: v.optional(v.string()),
      secret_env: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'secret_env is the name of an environment variable'))),
      secret_file: v.optional(v.string()),
      interval_s: v.optional(seconds('interval_s', 1, 3600), 15),
      grace_s: v.optional(seconds('grace_s', 0, 86400)),
      send_timeout_s: v.optional(seconds('send_timeout_s', 0.5, 60), 10),
      spool_dir: v.optional(v.pipe(v.string('spool_dir is a directory path'), v.minLength(1, 'spool_dir cannot be empty'))),
      spool_max_mb: v.optional(
        v.pipe(
          v.number('spool_max_mb is a number of megabytes'),
          v.minValue(1, 'spool_max_mb is at least 1'),
          v.maxValue(10_240, 'spool_max_mb is at most 10240'),
        ),
        16,
      ),
      spool_max_age_h: v.optional(
        v.pipe(
          v.number('spool_max_age_h is a number of hours'),
          v.minValue(1, 'spool_max_age_h is at least 1'),
          v.maxValue(168, 'spool_max_age_h is at most 168 (the Worker refuses older backfill)'),
        ),
        168,
      ),
      labels,
      probes: v.optional(
        v.pipe(
          v.array(ProbeSchema, 'probes is a list'),
          v.maxLength(32, 'at most 32 probes'),
          v.check(
            (probes) => new Set(probes.map((p) => p.name)).size === probes.length,
            'two probes share a name: give each a distinct name (it prefixes their signals)',
          ),
        ),
        [],
      ),
    },
    (issue) =>
      issue.received === 'undefined'
        ? `is required; the top-level keys are ${TOP_LEVEL_KEYS.join(', ')}`
        : `unknown key ${issue.received}; the top-level keys are ${TOP_LEVEL_KEYS.join(', ')}`,
  ),
  v.check(
    (c) => [c.secret, c.secret_env, c.secret_file].filter((s) => s !== undefined).length <= 1,
    'give only one of secret, secret_env, secret_file',
  ),
);

export type ProbeConfig = v.InferOutput<typeof ProbeSchema>;
type RawConfig = v.InferOutput<typeof ConfigSchema>;

export interface AgentConfig extends Omit<RawConfig, 'secret' | 'secret_env' | 'secret_file'> {
  /** Resolved from secret, secret_env, secret_file or BLINDSPOT_SECRET. Never logged. */
  secret: string;
}

/**
 * Environment variables override the file, the way OTEL_* variables override an OpenTelemetry SDK's
 * settings: BLINDSPOT_<KEY> for each top-level setting (BLINDSPOT_INTERVAL_S=30), and BLINDSPOT_LABELS
 * in the OTEL_RESOURCE_ATTRIBUTES form (env=prod,region=eu-west-1; values percent-encoded) for labels
 * added to every signal. An empty variable counts as unset.
 */
const ENV_SCALARS: Record<string, 'string' | 'number'> = {
  agent_id: 'string',
  worker_url: 'string',
  secret_env: 'string',
  secret_file: 'string',
  interval_s: 'number',
  grace_s: 'number',
  send_timeout_s: 'number',
  spool_dir: 'string',
  spool_max_mb: 'number',
  spool_max_age_h: 'number',
};

export const envName = (key: string) => `BLINDSPOT_${key.toUpperCase()}`;

function applyEnv(merged: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string): void {
  for (const [key, type] of Object.entries(ENV_SCALARS)) {
    const value = env[envName(key)]?.trim();
    if (value === undefined || value === '') continue;
    if (type === 'number' && key.endsWith('_s') && durationSeconds(value) !== null) merged[key] = value;
    else if (type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n))
        throw new ConfigError(
          `${envName(key)}=${JSON.stringify(value)}: ${key} is a number${key.endsWith('_s') ? ' or a duration' : ''} (for example ${envName(key)}=30${key.endsWith('_s') ? ` or ${envName(key)}=30s` : ''})`,
        );
      merged[key] = n;
    } else merged[key] = value;
    // A secret reference from the environment replaces the file's, whatever form that took.
    if (key === 'secret_env' || key === 'secret_file')
      for (const other of ['secret', 'secret_env', 'secret_file']) if (other !== key) delete merged[other];
  }
  const labels = env.BLINDSPOT_LABELS?.trim();
  if (labels) merged.labels = { ...(isRecord(merged.labels) ? merged.labels : {}), ...parseLabelList(labels, source) };
}

/** key=value,key=value, as OTEL_RESOURCE_ATTRIBUTES: values may be percent-encoded. */
export function parseLabelList(text: string, source = 'BLINDSPOT_LABELS'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(`${source}: BLINDSPOT_LABELS is a list of key=value pairs separated by commas (got "${part.trim()}")`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${source}: BLINDSPOT_LABELS: the value of ${part.slice(0, eq).trim()} has a broken %-escape`);
    }
    out[part.slice(0, eq).trim()] = value;
  }
  return out;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (pass --config <file> or set BLINDSPOT_CONFIG)`,
    );
  }
  const read = readYaml(text, path, env);
  if (!read.ok) throw new ConfigError(read.errors.join('\n'));
  return parseConfig(read.value, path, env, read.locate);
}

/** `locate`, when the configuration came from a file: where a key path is in it (file:line:col). */
export function parseConfig(
  raw: unknown,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
  locate?: (path: readonly Segment[]) => string,
): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(`${source}: the config is a mapping with agent_id, worker_url, a secret and probes`);
  const merged: Record<string, unknown> = { ...raw };
  applyEnv(merged, env, source);
  const result = v.safeParse(ConfigSchema, merged);
  if (!result.success)
    throw new ConfigError(
      locate === undefined ? `${source}: ${describeIssues(result.issues)}` : locateIssues(result.issues, locate).join('\n'),
    );
  const { secret: _s, secret_env: _e, secret_file: _f, ...rest } = result.output;
  // A secret error points at the key that named the secret (the file's start when none did).
  const secretKey = (['secret_env', 'secret_file', 'secret'] as const).find((k) => result.output[k] !== undefined);
  return { ...rest, secret: resolveSecret(result.output, (secretKey && locate?.([secretKey])) ?? source, env) };
}

function resolveSecret(config: RawConfig, source: string, env: NodeJS.ProcessEnv): string {
  let secret: string | undefined;
  let from: string;
  if (env.BLINDSPOT_SECRET) [secret, from] = [env.BLINDSPOT_SECRET, 'BLINDSPOT_SECRET'];
  else if (config.secret_env) {
    [secret, from] = [env[config.secret_env], `environment variable ${config.secret_env} (secret_env)`];
    if (!secret)
      throw new ConfigError(
        `${source}: secret_env: the environment variable ${config.secret_env} is ${secret === undefined ? 'not set' : 'empty'}: set it to the agent's whsec_ secret (blindspot agent add prints one)`,
      );
  } else if (config.secret_file) {
    from = `secret_file ${config.secret_file}`;
    try {
      secret = readFileSync(config.secret_file, 'utf8').trim();
    } catch (e: unknown) {
      throw new ConfigError(`${source}: cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  } else [secret, from] = [config.secret, 'secret'];
  if (!secret)
    throw new ConfigError(
      `${source}: no secret: set one of secret, secret_env, secret_file, or BLINDSPOT_SECRET (blindspot-agent keygen makes one)`,
    );
  try {
    decodeSecret(secret);
  } catch (e: unknown) {
    if (e instanceof InvalidSecretError) throw new ConfigError(`${source}: ${from}: ${e.message}`);
    throw e;
  }
  return secret;
}
