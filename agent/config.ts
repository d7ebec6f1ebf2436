// The agent's configuration: parsed once at start, with errors that name the field and the fix.
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { AGENT_ID_PATTERN, describeIssues } from '../protocol/heartbeat.ts';
import { decodeSecret, InvalidSecretError } from '../protocol/signature.ts';

export class ConfigError extends Error {}

const seconds = (field: string, min: number, max: number) =>
  v.pipe(v.number(`${field} is a number of seconds`), v.minValue(min, `${field} is at least ${min}`), v.maxValue(max, `${field} is at most ${max}`));

const httpUrl = (field: string) =>
  v.pipe(v.string(`${field} is a URL`), v.check((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), `${field} must be an http:// or https:// URL`));

const signalName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'name uses letters, digits and _ . : - (for example "metrics.freshness")'));
const labels = v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/, 'label names look like Prometheus labels')), v.string()), {});

const PrometheusFreshnessSchema = v.strictObject(
  {
    type: v.literal('prometheus_freshness'),
    name: v.optional(signalName, 'metrics.freshness'),
    url: httpUrl('url'),
    selector: v.pipe(v.string('selector is a PromQL series selector, e.g. up{job="node"}'), v.minLength(1, 'selector cannot be empty')),
    timeout_s: v.optional(seconds('timeout_s', 0.1, 60), 5),
    labels,
  },
  (issue) => `unknown key ${issue.received}: a prometheus_freshness probe takes type, name, url, selector, timeout_s, labels`,
);

const DemoSchema = v.strictObject(
  {
    type: v.literal('demo'),
    name: v.optional(signalName, 'demo'),
    labels,
  },
  (issue) => `unknown key ${issue.received}: a demo probe takes type, name, labels`,
);

const ProbeSchema = v.variant(
  'type',
  [PrometheusFreshnessSchema, DemoSchema],
  (issue) => `type must be "prometheus_freshness" or "demo" (got ${issue.received})`,
);

const ConfigSchema = v.pipe(
  v.strictObject(
    {
      agent_id: v.pipe(v.string('agent_id is required'), v.regex(AGENT_ID_PATTERN, 'agent_id matches ^[a-z0-9][a-z0-9_.-]{0,62}$ (lower case, digits, _ . -)')),
      worker_url: httpUrl('worker_url'),
      secret: v.optional(v.string()),
      secret_env: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'secret_env is the name of an environment variable'))),
      secret_file: v.optional(v.string()),
      interval_s: v.optional(seconds('interval_s', 1, 3600), 15),
      grace_s: v.optional(seconds('grace_s', 0, 86400)),
      send_timeout_s: v.optional(seconds('send_timeout_s', 0.5, 60), 10),
      spool_dir: v.optional(v.pipe(v.string('spool_dir is a directory path'), v.minLength(1, 'spool_dir cannot be empty'))),
      spool_max_mb: v.optional(v.pipe(v.number('spool_max_mb is a number of megabytes'), v.minValue(1, 'spool_max_mb is at least 1'), v.maxValue(10_240, 'spool_max_mb is at most 10240')), 16),
      spool_max_age_h: v.optional(v.pipe(v.number('spool_max_age_h is a number of hours'), v.minValue(1, 'spool_max_age_h is at least 1'), v.maxValue(168, 'spool_max_age_h is at most 168 (the Worker refuses older backfill)')), 168),
      probes: v.pipe(v.array(ProbeSchema, 'probes is a list'), v.minLength(1, 'configure at least one probe'), v.maxLength(64, 'at most 64 probes')),
    },
    (issue) => `unknown key ${issue.received}; the top-level keys are agent_id, worker_url, secret, secret_env, secret_file, interval_s, grace_s, send_timeout_s, spool_dir, spool_max_mb, spool_max_age_h, probes`,
  ),
  v.check((c) => [c.secret, c.secret_env, c.secret_file].filter((s) => s !== undefined).length <= 1, 'give only one of secret, secret_env, secret_file'),
);

export type ProbeConfig = v.InferOutput<typeof ProbeSchema>;
type RawConfig = v.InferOutput<typeof ConfigSchema>;

export interface AgentConfig extends Omit<RawConfig, 'secret' | 'secret_env' | 'secret_file'> {
  /** Resolved from secret, secret_env, secret_file or BLINDSPOT_SECRET. Never logged. */
  secret: string;
}

/** Environment variables that override the file: useful in containers and systemd units. */
const ENV_OVERRIDES = { BLINDSPOT_AGENT_ID: 'agent_id', BLINDSPOT_WORKER_URL: 'worker_url', BLINDSPOT_INTERVAL_S: 'interval_s' } as const;

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (pass --config <file> or set BLINDSPOT_CONFIG)`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e: unknown) {
    throw new ConfigError(`${path} is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  return parseConfig(raw, path, env);
}

export function parseConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: the config is a mapping with agent_id, worker_url, a secret and probes`);
  const merged: Record<string, unknown> = { ...raw };
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[key] = key === 'interval_s' ? Number(value) : value;
  }
  const result = v.safeParse(ConfigSchema, merged);
  if (!result.success) throw new ConfigError(`${source}: ${describeIssues(result.issues)}`);
  const { secret: _s, secret_env: _e, secret_file: _f, ...rest } = result.output;
  return { ...rest, secret: resolveSecret(result.output, source, env) };
}

function resolveSecret(config: RawConfig, source: string, env: NodeJS.ProcessEnv): string {
  let secret: string | undefined;
  let from: string;
  if (env.BLINDSPOT_SECRET) [secret, from] = [env.BLINDSPOT_SECRET, 'BLINDSPOT_SECRET'];
  else if (config.secret_env) [secret, from] = [env[config.secret_env], `environment variable ${config.secret_env} (secret_env)`];
  else if (config.secret_file) {
    from = `secret_file ${config.secret_file}`;
    try {
      secret = readFileSync(config.secret_file, 'utf8').trim();
    } catch (e: unknown) {
      throw new ConfigError(`${source}: cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  } else [secret, from] = [config.secret, 'secret'];
  if (!secret) throw new ConfigError(`${source}: no secret: set one of secret, secret_env, secret_file, or BLINDSPOT_SECRET (blindspot-agent keygen makes one)`);
  try {
    decodeSecret(secret);
  } catch (e: unknown) {
    if (e instanceof InvalidSecretError) throw new ConfigError(`${source}: ${from}: ${e.message}`);
    throw e;
  }
  return secret;
}
