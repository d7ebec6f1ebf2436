// Settings read from the Worker's environment, validated with messages that name the setting and the fix.
import * as v from 'valibot';
import { AGENT_ID_PATTERN, describeIssues } from '../protocol/heartbeat.ts';
import { decodeSecret, InvalidSecretError } from '../protocol/signature.ts';
import type { WebhookConfig } from './notify/webhook.ts';

export class ConfigError extends Error {}

const SecretSchema = v.pipe(
  v.string(),
  v.check((s) => {
    try {
      decodeSecret(s);
      return true;
    } catch (e: unknown) {
      if (e instanceof InvalidSecretError) return false;
      throw e;
    }
  }, 'each secret is "whsec_" + base64 of 24 to 64 random bytes (blindspot-agent keygen makes one)'),
);

const AgentSecretsSchema = v.record(
  v.pipe(v.string(), v.regex(AGENT_ID_PATTERN, 'agent ids match ^[a-z0-9][a-z0-9_.-]{0,62}$')),
  v.pipe(v.union([SecretSchema, v.array(SecretSchema)]), v.transform((s) => (Array.isArray(s) ? s : [s])), v.minLength(1, 'give at least one secret')),
);

export type AgentSecrets = ReadonlyMap<string, readonly string[]>;

const secretsCache = new Map<string, AgentSecrets>();

/** BLINDSPOT_AGENT_SECRETS: JSON {"agent-id": ["whsec_...", ...]} (a single string is accepted too). */
export function parseAgentSecrets(raw: string | undefined): AgentSecrets {
  const key = raw ?? '';
  const cached = secretsCache.get(key);
  if (cached) return cached;
  if (!raw || raw.trim() === '') return new Map();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('BLINDSPOT_AGENT_SECRETS is not valid JSON; expected {"agent-id": ["whsec_..."]}');
  }
  const result = v.safeParse(AgentSecretsSchema, json);
  if (!result.success) throw new ConfigError(`BLINDSPOT_AGENT_SECRETS: ${describeIssues(result.issues)}`);
  const secrets: AgentSecrets = new Map(Object.entries(result.output));
  secretsCache.set(key, secrets);
  return secrets;
}

/** The webhook channel, or null when no URL is set. A URL without a valid secret is an error. */
export function parseWebhookConfig(url: string | undefined, secret: string | undefined): WebhookConfig | null {
  if (!url || url.trim() === '') return null;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigError('BLINDSPOT_WEBHOOK_URL must be an http(s) URL');
  }
  if (!secret) throw new ConfigError('BLINDSPOT_WEBHOOK_SECRET is required with BLINDSPOT_WEBHOOK_URL (blindspot-agent keygen makes one)');
  try {
    decodeSecret(secret);
  } catch (e: unknown) {
    if (e instanceof InvalidSecretError) throw new ConfigError(`BLINDSPOT_WEBHOOK_SECRET: ${e.message}`);
    throw e;
  }
  return { url, secret };
}

const tokensCache = new Map<string, ReadonlyMap<string, string>>();

/** BLINDSPOT_ALERTMANAGER_TOKENS: JSON {"source-id": "token"}; tokens are at least 16 characters. */
export function parseAlertmanagerTokens(raw: string | undefined): ReadonlyMap<string, string> {
  const key = raw ?? '';
  const cached = tokensCache.get(key);
  if (cached) return cached;
  if (!raw || raw.trim() === '') return new Map();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('BLINDSPOT_ALERTMANAGER_TOKENS is not valid JSON; expected {"source-id": "token"}');
  }
  const schema = v.record(
    v.pipe(v.string(), v.regex(AGENT_ID_PATTERN, 'source ids match ^[a-z0-9][a-z0-9_.-]{0,62}$')),
    v.pipe(v.string(), v.minLength(16, 'each token is at least 16 characters (openssl rand -hex 24 makes one)')),
  );
  const result = v.safeParse(schema, json);
  if (!result.success) throw new ConfigError(`BLINDSPOT_ALERTMANAGER_TOKENS: ${describeIssues(result.issues)}`);
  const tokens: ReadonlyMap<string, string> = new Map(Object.entries(result.output));
  tokensCache.set(key, tokens);
  return tokens;
}
