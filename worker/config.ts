// Settings read from the Worker's environment, validated with messages that name the setting and the fix.
import * as v from 'valibot';
import { AGENT_ID_PATTERN, describeIssues } from '../protocol/heartbeat.ts';
import { isValidSecret } from '../protocol/signature.ts';

export class ConfigError extends Error {}

const SecretSchema = v.pipe(
  v.string(),
  v.check(isValidSecret, 'each secret is "whsec_" + base64 of 24 to 64 random bytes (blindspot-agent keygen makes one)'),
);

const AgentSecretsSchema = v.record(
  v.pipe(v.string(), v.regex(AGENT_ID_PATTERN, 'agent ids match ^[a-z0-9][a-z0-9_.-]{0,62}$')),
  v.pipe(
    v.union([SecretSchema, v.array(SecretSchema)]),
    v.transform((s) => (Array.isArray(s) ? s : [s])),
    v.minLength(1, 'give at least one secret'),
  ),
);

export type AgentSecrets = ReadonlyMap<string, readonly string[]>;

const mapCache = new Map<string, ReadonlyMap<string, unknown>>();

/** A JSON object setting ({"id": value}) validated by `schema`; parsed once per distinct text. */
function parseJsonMap<T>(
  name: string,
  expected: string,
  raw: string | undefined,
  schema: v.GenericSchema<unknown, Record<string, T>>,
): ReadonlyMap<string, T> {
  if (!raw || raw.trim() === '') return new Map();
  const key = `${name}\u0000${raw}`;
  const cached = mapCache.get(key);
  if (cached) return cached as ReadonlyMap<string, T>;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON; expected ${expected}`);
  }
  const result = v.safeParse(schema, json);
  if (!result.success) throw new ConfigError(`${name}: ${describeIssues(result.issues)}`);
  const map: ReadonlyMap<string, T> = new Map(Object.entries(result.output));
  mapCache.set(key, map);
  return map;
}

export interface AgentSecretsSetting {
  /** The agents whose entry is valid. */
  secrets: AgentSecrets;
  /** What is wrong, per agent id ("*" for the whole setting): those agents are refused, nothing else is. */
  errors: ReadonlyMap<string, string>;
}

const agentSecretsCache = new Map<string, AgentSecretsSetting>();
const AGENT_SECRETS_HINT = '{"agent-id": ["whsec_..."]}';

/**
 * BLINDSPOT_AGENT_SECRETS: JSON {"agent-id": ["whsec_...", ...]} (a single string is accepted too).
 * Read entry by entry: one malformed entry disables that agent alone (logged, shown on /healthz), so
 * an operator's typo never takes down other agents or the public page.
 */
export function agentSecretsSetting(raw: string | undefined): AgentSecretsSetting {
  const text = raw ?? '';
  const cached = agentSecretsCache.get(text);
  if (cached) return cached;
  const secrets = new Map<string, readonly string[]>();
  const errors = new Map<string, string>();
  let json: unknown = {};
  try {
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    errors.set('*', `BLINDSPOT_AGENT_SECRETS is not valid JSON; expected ${AGENT_SECRETS_HINT}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    errors.set('*', `BLINDSPOT_AGENT_SECRETS is a JSON object: ${AGENT_SECRETS_HINT}`);
  else
    for (const [id, value] of Object.entries(json)) {
      const result = v.safeParse(AgentSecretsSchema, { [id]: value });
      if (result.success) secrets.set(id, result.output[id] as string[]);
      else errors.set(id, `BLINDSPOT_AGENT_SECRETS entry "${id.slice(0, 80)}": ${describeIssues(result.issues)}`);
    }
  // A secret two agents share lets each sign for the other: both are refused until each has its own.
  const owners = new Map<string, string[]>();
  for (const [id, list] of secrets) for (const secret of new Set(list)) owners.set(secret, [...(owners.get(secret) ?? []), id]);
  for (const ids of owners.values()) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      secrets.delete(id);
      errors.set(
        id,
        `BLINDSPOT_AGENT_SECRETS entry "${id}": shares a secret with ${ids
          .filter((o) => o !== id)
          .map((o) => `"${o}"`)
          .join(', ')}, so each could sign for the other; give every agent its own (npx blindspot-agent keygen makes one)`,
      );
    }
  }
  for (const message of errors.values()) console.error(`${message}; that agent's heartbeats are refused until it is fixed`);
  const setting = { secrets, errors };
  if (agentSecretsCache.size > 16) agentSecretsCache.clear();
  agentSecretsCache.set(text, setting);
  return setting;
}

/** The agents whose secret entry is valid (see agentSecretsSetting). */
export function parseAgentSecrets(raw: string | undefined): AgentSecrets {
  return agentSecretsSetting(raw).secrets;
}

const AlertmanagerTokensSchema = v.record(
  v.pipe(v.string(), v.regex(AGENT_ID_PATTERN, 'source ids match ^[a-z0-9][a-z0-9_.-]{0,62}$')),
  v.pipe(v.string(), v.minLength(16, 'each token is at least 16 characters (openssl rand -hex 24 makes one)')),
);

export const ADMIN_SCOPES = ['read', 'write'] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** An admin token as configured: the SHA-256 of the token (never the token) and what it may do. */
export interface AdminToken {
  sha256: string;
  scopes: readonly AdminScope[];
}

const HASHED_HINT =
  '{"name": {"sha256": "<hex of the token\'s SHA-256>", "scopes": ["read", "write"]}} (blindspot token makes a token and this entry)';

const AdminTokensSchema = v.record(
  v.pipe(v.string(), v.regex(AGENT_ID_PATTERN, 'token names match ^[a-z0-9][a-z0-9_.-]{0,62}$')),
  v.pipe(
    v.unknown(),
    v.check((t) => typeof t !== 'string', `store the token's SHA-256, not the token: ${HASHED_HINT}`),
    v.object({
      sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits: printf %s "$TOKEN" | sha256sum')),
      scopes: v.pipe(
        v.array(v.picklist(ADMIN_SCOPES, 'each scope is "read" or "write"')),
        v.minLength(1, 'give at least one scope: "read", "write"'),
      ),
    }),
  ),
);

/** BLINDSPOT_ADMIN_TOKENS: JSON {"name": {"sha256", "scopes"}}; the name is what logs and incident updates show. */
export function parseAdminTokens(raw: string | undefined): ReadonlyMap<string, AdminToken> {
  return parseJsonMap(
    'BLINDSPOT_ADMIN_TOKENS',
    HASHED_HINT,
    raw,
    AdminTokensSchema as v.GenericSchema<unknown, Record<string, AdminToken>>,
  );
}

/** BLINDSPOT_ALERTMANAGER_TOKENS: JSON {"source-id": "token"}. */
export function parseAlertmanagerTokens(raw: string | undefined): ReadonlyMap<string, string> {
  return parseJsonMap('BLINDSPOT_ALERTMANAGER_TOKENS', '{"source-id": "token"}', raw, AlertmanagerTokensSchema);
}
