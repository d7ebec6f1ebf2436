// The channels this Worker can deliver to: the configuration's channels with their secrets from
// BLINDSPOT_CHANNEL_SECRETS, plus the legacy single webhook (BLINDSPOT_WEBHOOK_URL) as channel
// "webhook". A channel whose secret is missing or malformed is reported (by id and secret name, never
// by value) and its notifications wait in the outbox until it is fixed.
import * as v from 'valibot';
import type { ChannelDef, Notifications } from '../../config/resolve.ts';
import { DEFAULT_CHANNEL_TIMEOUT_S } from '../../config/resolve.ts';
import { isValidSecret } from '../../protocol/signature.ts';
import { routingTable, type RoutingTable } from '../core/routing.ts';
import type { Channel } from './channel.ts';
import { discordChannel, slackChannel, teamsChannel } from './chat.ts';
import { opsgenieChannel } from './opsgenie.ts';
import { pagerDutyChannel } from './pagerduty.ts';
import { webhookChannel } from './webhook.ts';

export const LEGACY_WEBHOOK_CHANNEL = 'webhook';

export interface ChannelEnv {
  BLINDSPOT_CHANNEL_SECRETS?: string;
  BLINDSPOT_WEBHOOK_URL?: string;
  BLINDSPOT_WEBHOOK_SECRET?: string;
}

export interface ChannelInfo {
  id: string;
  type: string;
  source: 'config' | 'BLINDSPOT_WEBHOOK_URL';
  /** Why this channel cannot send; null when it can. */
  error: string | null;
}

export interface Registry {
  channels: ReadonlyMap<string, Channel>;
  info: ChannelInfo[];
  routing: RoutingTable;
  publicUrl: string | null;
  horizonMs: number;
}

const httpUrl = (u: string) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol);

const SecretsSchema = v.record(
  v.string(),
  v.union([v.string(), v.looseObject({ url: v.optional(v.string()), secret: v.optional(v.string()) })]),
);

/** What each type's secret must look like, said so a person can fix it. */
const EXPECTED: Record<ChannelDef['type'], string> = {
  pagerduty: 'the 32-character Integration Key (routing key) of an Events API v2 integration',
  opsgenie: 'an Opsgenie API key (of an API integration)',
  slack: 'the incoming-webhook URL (https://hooks.slack.com/services/...)',
  discord: 'the webhook URL (https://discord.com/api/webhooks/...)',
  teams: 'the Workflows webhook URL ("Send webhook alerts to a channel")',
  webhook: '{"url": "https://...", "secret": "whsec_..."} (blindspot-agent keygen makes a secret)',
};

function build(def: ChannelDef, secret: unknown, publicUrl: string | null): Channel | string {
  const missing = `BLINDSPOT_CHANNEL_SECRETS has no entry "${def.id}"; set it to ${EXPECTED[def.type]}`;
  const wrong = `BLINDSPOT_CHANNEL_SECRETS["${def.id}"] is not valid for a channel of type ${def.type}; set it to ${EXPECTED[def.type]}`;
  if (secret === undefined) return missing;
  const common = { id: def.id, timeoutMs: def.timeoutMs, publicUrl };
  switch (def.type) {
    case 'pagerduty':
      return typeof secret === 'string' && /^[A-Za-z0-9]{20,64}$/.test(secret)
        ? pagerDutyChannel({ ...common, routingKey: secret, region: def.region, endpoint: def.endpoint })
        : wrong;
    case 'opsgenie':
      return typeof secret === 'string' && /^[A-Za-z0-9-]{16,128}$/.test(secret)
        ? opsgenieChannel({ ...common, apiKey: secret, region: def.region, endpoint: def.endpoint })
        : wrong;
    case 'slack':
    case 'discord':
    case 'teams': {
      if (typeof secret !== 'string' || !httpUrl(secret)) return wrong;
      const make = def.type === 'slack' ? slackChannel : def.type === 'discord' ? discordChannel : teamsChannel;
      return make({ ...common, url: secret });
    }
    case 'webhook': {
      if (typeof secret !== 'object' || secret === null) return wrong;
      const { url, secret: key } = secret as { url?: string; secret?: string };
      if (url === undefined || !httpUrl(url)) return `BLINDSPOT_CHANNEL_SECRETS["${def.id}"].url must be an http(s) URL`;
      if (key === undefined || !isValidSecret(key))
        return `BLINDSPOT_CHANNEL_SECRETS["${def.id}"].secret must be "whsec_" + base64 of 24 to 64 random bytes (blindspot-agent keygen makes one)`;
      return webhookChannel({ id: def.id, url, secret: key, timeoutMs: def.timeoutMs });
    }
  }
}

function parseSecrets(raw: string | undefined): { secrets: Record<string, unknown>; error: string | null } {
  if (raw === undefined || raw.trim() === '') return { secrets: {}, error: null };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return {
      secrets: {},
      error:
        'BLINDSPOT_CHANNEL_SECRETS is not valid JSON; expected {"channel-id": "key or URL", "webhook-id": {"url": "...", "secret": "whsec_..."}}',
    };
  }
  const parsed = v.safeParse(SecretsSchema, json);
  if (!parsed.success)
    return {
      secrets: {},
      error: 'BLINDSPOT_CHANNEL_SECRETS must be a JSON object of channel id → string, or → {"url", "secret"} for webhooks',
    };
  return { secrets: parsed.output, error: null };
}

let cached: { env: [string?, string?, string?]; notifications: Notifications; registry: Registry } | null = null;

export function channelRegistry(env: ChannelEnv, notifications: Notifications): Registry {
  // Called on every window change: rebuilt only when the settings or the (cached) configuration change.
  const key: [string?, string?, string?] = [env.BLINDSPOT_CHANNEL_SECRETS, env.BLINDSPOT_WEBHOOK_URL, env.BLINDSPOT_WEBHOOK_SECRET];
  if (cached !== null && cached.notifications === notifications && cached.env.every((v, i) => v === key[i])) return cached.registry;
  const { secrets, error } = parseSecrets(env.BLINDSPOT_CHANNEL_SECRETS);
  const channels = new Map<string, Channel>();
  const info: ChannelInfo[] = [];
  for (const def of notifications.channels) {
    const built = error !== null ? error : build(def, secrets[def.id], notifications.publicUrl);
    if (typeof built === 'string') info.push({ id: def.id, type: def.type, source: 'config', error: built });
    else {
      channels.set(def.id, built);
      info.push({ id: def.id, type: def.type, source: 'config', error: null });
    }
  }
  const extra: string[] = [];
  const legacyUrl = env.BLINDSPOT_WEBHOOK_URL?.trim();
  if (legacyUrl && !notifications.channels.some((c) => c.id === LEGACY_WEBHOOK_CHANNEL)) {
    // Routed even while malformed: events queue and go out once the setting is fixed.
    extra.push(LEGACY_WEBHOOK_CHANNEL);
    const secret = env.BLINDSPOT_WEBHOOK_SECRET;
    const problem = !httpUrl(legacyUrl)
      ? 'BLINDSPOT_WEBHOOK_URL must be an http(s) URL'
      : !secret
        ? 'BLINDSPOT_WEBHOOK_SECRET is required with BLINDSPOT_WEBHOOK_URL (blindspot-agent keygen makes one)'
        : !isValidSecret(secret)
          ? 'BLINDSPOT_WEBHOOK_SECRET must be "whsec_" + base64 of 24 to 64 random bytes (blindspot-agent keygen makes one)'
          : null;
    if (problem === null)
      channels.set(
        LEGACY_WEBHOOK_CHANNEL,
        webhookChannel({
          id: LEGACY_WEBHOOK_CHANNEL,
          url: legacyUrl,
          secret: secret as string,
          timeoutMs: DEFAULT_CHANNEL_TIMEOUT_S * 1000,
        }),
      );
    info.push({ id: LEGACY_WEBHOOK_CHANNEL, type: 'webhook', source: 'BLINDSPOT_WEBHOOK_URL', error: problem });
  }
  const registry: Registry = {
    channels,
    info,
    routing: routingTable(notifications, extra),
    publicUrl: notifications.publicUrl,
    horizonMs: notifications.giveUpAfterS * 1000,
  };
  for (const i of info) if (i.error !== null) console.error(`channel ${i.id}: ${i.error}`);
  cached = { env: key, notifications, registry };
  return registry;
}
