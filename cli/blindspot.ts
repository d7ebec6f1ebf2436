// blindspot: the admin CLI, for posting an incident update from a laptop while the primary stack is
// down, and for pulling the gap report into a postmortem. It talks only to the Worker's API.
// Exit codes: 0 done, 1 the Worker refused or could not be reached, 2 usage error.
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { checkWatchConfigFile } from '../config/check-file.ts';
import { durationSeconds } from '../config/duration.ts';
import { completionScript } from '../protocol/completion.ts';
import { VERSION } from '../protocol/version.ts';
import { renderCsv } from '../ui/gap-report/csv.ts';
import { renderMarkdown } from '../ui/gap-report/markdown.ts';
import type { GapReportShape } from '../worker/routes/gap-shapes.ts';

/** 100 pages of 5000 windows: far past what one range can hold (the Worker refuses more than 20 000). */
const MAX_GAP_PAGES = 100;

const USAGE = `usage: blindspot <command> [options]

incidents (public, on the status page):
  incident open --name <text> --body <text> [--impact none|minor|major|critical]
                [--status investigating|identified|monitoring] [--component <id>]...
  incident update <id> --status <status> --body <text> [--impact <impact>]
  incident resolve <id> [--body <text>]
  incident list

maintenance (public; pauses paging for what it covers):
  maintenance schedule --name <text> --from <time> --until <time|duration> [--body <text>]
                       [--component <id>]... [--agent <glob>]... [--monitor <glob>]...
  maintenance start <id>        begin it now
  maintenance complete <id>     end it now (or cancel it before it starts)
  maintenance list

silences (not public; pause paging):
  silence add --reason <text> --until <time|duration> [--agent <glob>]... [--monitor <glob>]...
  silence expire <id>
  silence list

gap report (when was the monitoring blind, to what, for how long?):
  gaps [--from <time|duration ago>] [--to <time>] [--format md|csv|json] [--tz <zone>]
       [--agent <glob>]... [--component <id>]... [--monitor <glob>]... [--cause <cause>]...
       [--objective <ratio>]
       prints the whole report (every page) to stdout; --from defaults to 24h ago, --to to now;
       --tz is UTC (default), an offset such as +05:30, or an IANA name such as Europe/Berlin

agents (their heartbeats are taken at once; no redeploy, no secret to edit by hand):
  agent add <id>                  add an agent; prints its secret (shown this once) for its config
  agent list                      every agent and its key ids (agents of BLINDSPOT_AGENT_SECRETS too)
  agent rotate <id>               add a key to the agent; prints the new secret; the old key still works
  agent revoke <id> [--key <id>]  revoke one key, or (no --key) retire the agent: its heartbeats get
                                  401, its open windows end, its silence is not paged
  agent replication [<id>]        what the agent's object (or, without an id, the fleet) still owes D1:
                                  batches queued, the oldest, those set aside (refused for good), dropped
  agent replication <id> retry    queue its set-aside batches again, once what D1 refused is fixed
  agent replication <id> acknowledge   forget its set-aside batches and clear its dropped count (you
                                  have seen what D1 lacks); /healthz follows at the next sweep

the watchdog's own history (its summaries, the gaps in its own running):
  watchdog replication            what the Watchdog object still owes D1, as for an agent
  watchdog replication retry      queue its set-aside batches again, once what D1 refused is fixed
  watchdog replication acknowledge   forget its set-aside batches and clear its dropped count

  check-config [<file>]   validate a watchdog configuration offline (default blindspot.config.yaml);
                          exit 0 valid, 1 invalid, each error as file:line:col: key path: fix

admin tokens (beside the bootstrap ones of BLINDSPOT_ADMIN_TOKENS; only their SHA-256 is kept):
  token add <name> [--scope read|write]...   make a token through the Worker; printed this once
  token list                      every token's name and scopes
  token revoke <name>             it opens nothing from then on
  token <name>                    offline: a new token and its BLINDSPOT_ADMIN_TOKENS entry

channels (where pages go):
  channel list                    each channel: ready or not, last success and failure, pending, dead
  channel test <id>               send a test notification through it and say what the receiver answered
  completion bash|zsh   print a shell completion script: source <(blindspot completion bash)

times are RFC 3339 with a zone (2026-11-22T18:00:00Z) or, for --from, "now"; a duration is
relative to --from (or now), as Prometheus writes it: 30s, 90m, 2h, 1h30m, 1d, 1w.

options:
  -o, --output text|json   json prints the Worker's answer as it came (--json is the same)
  -h, --help     show this help
  -V, --version  print the version

environment: BLINDSPOT_WORKER_URL (the Worker's URL), BLINDSPOT_ADMIN_TOKEN (a token with the
write scope; list and gaps need read; gaps needs none when the report is public).`;

/** Each command group and its verbs, for completion. */
const COMMANDS: Record<string, readonly string[]> = {
  incident: ['open', 'update', 'resolve', 'list'],
  maintenance: ['schedule', 'start', 'complete', 'list'],
  silence: ['add', 'expire', 'list'],
  agent: ['add', 'list', 'rotate', 'revoke', 'replication'],
  watchdog: ['replication'],
  channel: ['list', 'test'],
  gaps: [],
  'check-config': [],
  token: ['add', 'list', 'revoke'],
  completion: ['bash', 'zsh'],
  help: ['incident', 'maintenance', 'silence', 'agent', 'watchdog', 'channel', 'gaps', 'token', 'check-config'],
};

/** The help of one command group (blindspot agent --help, blindspot help agent), or all of it. */
export function helpFor(topic: string | undefined): string {
  if (topic === undefined || !(topic in COMMANDS)) return USAGE;
  const paragraphs = USAGE.split('\n\n');
  const own = paragraphs.filter((p) => p.split('\n').some((line) => line.startsWith(`  ${topic} `) || line === `  ${topic}`));
  const rest = paragraphs.filter(
    (p) =>
      p.startsWith('options:') ||
      p.startsWith('environment:') ||
      (['maintenance', 'silence', 'gaps'].includes(topic) && p.startsWith('times are')),
  );
  return [`usage: blindspot ${topic} ${COMMANDS[topic]?.length ? '<command> ' : ''}[options]`, ...own, ...rest].join('\n\n');
}

const OPTIONS = {
  name: { type: 'string' },
  body: { type: 'string' },
  impact: { type: 'string' },
  status: { type: 'string' },
  component: { type: 'string', multiple: true },
  agent: { type: 'string', multiple: true },
  monitor: { type: 'string', multiple: true },
  from: { type: 'string' },
  until: { type: 'string' },
  to: { type: 'string' },
  tz: { type: 'string' },
  format: { type: 'string' },
  cause: { type: 'string', multiple: true },
  objective: { type: 'string' },
  reason: { type: 'string' },
  key: { type: 'string' },
  scope: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

class Usage extends Error {}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(values: Values, key: 'name' | 'body' | 'status' | 'from' | 'until' | 'reason', example: string): string {
  const v = values[key];
  if (v === undefined || v.trim() === '') throw new Usage(`--${key} is required, e.g. --${key} ${example}`);
  return v;
}

/** A Prometheus duration (90m, 2h, 1h30m, 1d, 1w, 30s) in milliseconds, or null. */
function durationMs(value: string): number | null {
  const seconds = durationSeconds(value);
  return seconds === null || seconds <= 0 ? null : seconds * 1000;
}

const TIME_HINT = 'give RFC 3339 with a zone (2026-11-22T18:00:00Z), "now", or a duration such as 90m, 2h, 1h30m, 1d or 1w';

/** RFC 3339 (kept as written: the Worker checks it), "now", or a duration after `base`. */
export function timeArg(flag: string, value: string, base: number): string {
  if (value === 'now') return new Date(base).toISOString();
  const ms = durationMs(value);
  if (ms !== null) return new Date(base + ms).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return value;
  throw new Usage(`${flag} "${value}" is not a time: ${TIME_HINT}`);
}

/** For looking back: RFC 3339 as written, "now", or a duration before `now` (24h = a day ago). */
export function agoArg(flag: string, value: string, now: number): string {
  const ms = durationMs(value);
  if (ms !== null) return new Date(now - ms).toISOString();
  return timeArg(flag, value, now);
}

export const GAP_FORMATS = ['md', 'csv', 'json'] as const;
export type GapFormat = (typeof GAP_FORMATS)[number];

/** The query `blindspot gaps` sends: the report's own parameters; the Worker checks them all. */
export function gapsQuery(rest: string[], values: Values, now: number): { query: URLSearchParams; format: GapFormat } {
  if (rest.length > 0) throw new Usage(`gaps takes options only, not "${rest.join(' ')}"`);
  const format = (values.format ?? (values.json ? 'json' : 'md')) as GapFormat;
  if (!GAP_FORMATS.includes(format)) throw new Usage(`--format is md, csv or json, not "${values.format}"`);
  const query = new URLSearchParams({ from: agoArg('--from', values.from ?? '24h', now), format: 'json', limit: '5000' });
  if (values.to !== undefined) query.set('to', agoArg('--to', values.to, now));
  if (values.tz !== undefined) query.set('tz', values.tz);
  if (values.objective !== undefined) query.set('objective', values.objective);
  for (const key of ['agent', 'component', 'monitor', 'cause'] as const) for (const v of values[key] ?? []) query.append(key, v);
  return { query, format };
}

const NO_WORKER_URL = "set BLINDSPOT_WORKER_URL to the Worker's URL, e.g. https://blindspot.example.workers.dev";

/** The Worker's URL, or why it is not usable (unset, or not a URL: most often the scheme is missing). */
function workerUrl(): string | null {
  const base = process.env.BLINDSPOT_WORKER_URL?.trim();
  return base && URL.canParse(base) && /^https?:$/.test(new URL(base).protocol) ? base : null;
}

function noWorkerUrl(): string {
  const base = process.env.BLINDSPOT_WORKER_URL?.trim();
  if (!base) return NO_WORKER_URL;
  return `BLINDSPOT_WORKER_URL "${base.slice(0, 100)}" is not an http(s) URL: write it with its scheme, e.g. https://${base.replace(/^[a-z]+:\/\//i, '').slice(0, 60)}`;
}

/** Why a request did not get an answer, with what was tried: "fetch failed" alone says nothing. */
export function unreachable(url: URL, e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : null;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const why =
    e instanceof Error && e.name === 'TimeoutError'
      ? 'no answer within 30 s'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `the name ${url.hostname} does not resolve (${code})`
        : code === 'ECONNREFUSED'
          ? `nothing listens at ${url.host} (ECONNREFUSED)`
          : (cause?.message ?? (e instanceof Error ? e.message : String(e)));
  return `could not reach ${url.origin} (${url.pathname}): ${why}; check BLINDSPOT_WORKER_URL and that this host may reach it`;
}

/** What the Worker said when it refused: its error message and code, or just the status. */
function refusal(res: Response, answer: { error?: { code: string; message: string } } | null): string {
  return answer?.error ? `${answer.error.message} (HTTP ${res.status}, ${answer.error.code})` : `the Worker answered HTTP ${res.status}`;
}

/** A 503 with Retry-After (D1 or an object could not answer; the request may be sent again as it was): this many tries in all. */
const TRIES = 3;
const MAX_RETRY_AFTER_S = 10;

/**
 * fetch, sending the request again after a 503 that carries Retry-After (at most 10 s each, three
 * tries in all), and saying so on stderr: the Worker answers so only when the request may be sent
 * again as it was.
 */
async function fetchRetrying(url: URL, init: () => RequestInit): Promise<Response> {
  for (let tries = 1; ; tries++) {
    const res = await fetch(url, init());
    const after = Number(res.headers.get('retry-after'));
    if (res.status !== 503 || !Number.isFinite(after) || after < 0 || tries >= TRIES) return res;
    const answer = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    const wait = Math.min(after, MAX_RETRY_AFTER_S);
    process.stderr.write(`blindspot: ${refusal(res, answer)}; sending it again in ${wait} s (try ${tries + 1} of ${TRIES})\n`);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: Record<string, unknown>;
  /** One line saying what happened, from the Worker's answer. */
  say: (answer: Record<string, unknown>) => string;
  /** Whether an answer the Worker gave with 2xx still means the command failed (exit 1). */
  failed?: (answer: Record<string, unknown>) => boolean;
}

function idOf(rest: string[], what: string): string {
  if (rest.length !== 1 || !/^[a-z0-9]{1,64}$/.test(rest[0] as string))
    throw new Usage(`give the ${what}'s id, e.g. blindspot ${what} ${what === 'silence' ? 'expire' : 'resolve'} 3kq9x2m1ab7z`);
  return rest[0] as string;
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

type Item = {
  id: string;
  name?: string;
  reason?: string;
  status?: string;
  scheduled_for?: string;
  scheduled_until?: string;
  ends_at?: string;
  active?: boolean;
};
const incidentLine = (i: Item) => `${i.id}  ${i.status}  ${i.name}`;

/** The request a command line stands for. Pure: tested without a Worker. */
export function plan(positionals: string[], values: Values, now: number): Call {
  const [group, verb, ...rest] = positionals;
  if (group === 'incident') {
    if (verb === 'open') {
      if (rest.length > 0) throw new Usage('incident open takes no id; use --name and --body');
      return {
        method: 'POST',
        path: '/v1/admin/incidents',
        body: defined({
          name: need(values, 'name', '"Delayed metrics"'),
          body: need(values, 'body', '"We are investigating."'),
          impact: values.impact,
          status: values.status,
          components: values.component,
        }),
        say: (a) => `opened incident ${(a.incident as Item).id}: ${(a.incident as Item).name}`,
      };
    }
    if (verb === 'update') {
      const id = idOf(rest, 'incident');
      return {
        method: 'POST',
        path: `/v1/admin/incidents/${id}/updates`,
        body: defined({
          status: need(values, 'status', 'identified'),
          body: need(values, 'body', '"Cause found."'),
          impact: values.impact,
          components: values.component,
        }),
        say: (a) => `incident ${id} is now ${(a.incident as Item).status}`,
      };
    }
    if (verb === 'resolve') {
      const id = idOf(rest, 'incident');
      return {
        method: 'POST',
        path: `/v1/admin/incidents/${id}/resolve`,
        body: defined({ body: values.body }),
        say: () => `incident ${id} resolved`,
      };
    }
    if (verb === 'list')
      return {
        method: 'GET',
        path: '/v1/admin/incidents',
        say: (a) => (a.incidents as Item[]).map(incidentLine).join('\n') || 'no incidents',
      };
    throw new Usage(`unknown incident command "${verb ?? ''}": open, update, resolve or list`);
  }
  if (group === 'maintenance') {
    if (verb === 'schedule') {
      const from = timeArg('--from', need(values, 'from', '2026-11-22T18:00:00Z'), now);
      const until = timeArg('--until', need(values, 'until', '2h'), Date.parse(from));
      return {
        method: 'POST',
        path: '/v1/admin/maintenances',
        body: defined({
          name: need(values, 'name', '"Prometheus upgrade"'),
          body: values.body,
          scheduled_for: from,
          scheduled_until: until,
          components: values.component,
          agents: values.agent,
          monitors: values.monitor,
        }),
        say: (a) => {
          const m = a.scheduled_maintenance as Item;
          return `maintenance ${m.id} ${m.status}: ${m.scheduled_for} to ${m.scheduled_until}`;
        },
      };
    }
    if (verb === 'start' || verb === 'complete') {
      const id = idOf(rest, 'maintenance');
      return {
        method: 'POST',
        path: `/v1/admin/maintenances/${id}/${verb}`,
        say: (a) => `maintenance ${id} is ${(a.scheduled_maintenance as Item).status}`,
      };
    }
    if (verb === 'list')
      return {
        method: 'GET',
        path: '/v1/admin/maintenances',
        say: (a) =>
          (a.scheduled_maintenances as Item[])
            .map((m) => `${m.id}  ${m.status}  ${m.scheduled_for} to ${m.scheduled_until}  ${m.name}`)
            .join('\n') || 'no maintenance',
      };
    throw new Usage(`unknown maintenance command "${verb ?? ''}": schedule, start, complete or list`);
  }
  if (group === 'silence') {
    if (verb === 'add') {
      if (rest.length > 0) throw new Usage('silence add takes no id; use --reason and --until');
      const from = values.from === undefined ? undefined : timeArg('--from', values.from, now);
      return {
        method: 'POST',
        path: '/v1/admin/silences',
        body: defined({
          reason: need(values, 'reason', '"rebuilding the node"'),
          starts_at: from,
          ends_at: timeArg('--until', need(values, 'until', '2h'), from === undefined ? now : Date.parse(from)),
          agents: values.agent,
          monitors: values.monitor,
        }),
        say: (a) => `silence ${(a.silence as Item).id} until ${(a.silence as Item).ends_at}`,
      };
    }
    if (verb === 'expire') {
      const id = idOf(rest, 'silence');
      return { method: 'DELETE', path: `/v1/admin/silences/${id}`, say: () => `silence ${id} expired: paging resumes` };
    }
    if (verb === 'list')
      return {
        method: 'GET',
        path: '/v1/admin/silences',
        say: (a) =>
          (a.silences as Item[]).map((s) => `${s.id}  ${s.active ? 'active' : 'inactive'}  until ${s.ends_at}  ${s.reason}`).join('\n') ||
          'no silences',
      };
    throw new Usage(`unknown silence command "${verb ?? ''}": add, expire or list`);
  }
  if (group === 'agent') return agentPlan(verb, rest, values);
  if (group === 'watchdog') return watchdogPlan(verb, rest);
  if (group === 'token') return tokenPlan(verb, rest, values);
  if (group === 'channel') return channelPlan(verb, rest);
  throw new Usage(group === undefined ? 'a command is required' : `unknown command "${group}"`);
}

function tokenPlan(verb: string | undefined, rest: string[], values: Values): Call {
  const nameOf = () => {
    if (rest.length !== 1 || !/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(rest[0] as string))
      throw new Usage(`give one token name (lowercase letters, digits, _ . -), e.g. blindspot token ${verb} ci-reader`);
    return rest[0] as string;
  };
  if (verb === 'add') {
    const name = nameOf();
    for (const s of values.scope ?? []) if (s !== 'read' && s !== 'write') throw new Usage(`--scope is read or write, not "${s}"`);
    return {
      method: 'POST',
      path: `/v1/admin/tokens/${name}`,
      body: values.scope === undefined ? {} : { scopes: [...new Set(values.scope)] },
      say: (a) =>
        `token ${name} (${(a.scopes as string[]).join(', ')}); it is shown this once, and only its SHA-256 is kept:\n  ${a.token as string}`,
    };
  }
  if (verb === 'revoke') {
    const name = nameOf();
    return { method: 'DELETE', path: `/v1/admin/tokens/${name}`, say: () => `token ${name} revoked: it opens nothing from now on` };
  }
  if (verb === 'list') {
    if (rest.length > 0) throw new Usage('token list takes no arguments');
    return {
      method: 'GET',
      path: '/v1/admin/tokens',
      say: (a) =>
        (a.tokens as { name: string; scopes: string[]; source: string; created_at: string | null; created_by: string | null }[])
          .map((t) =>
            t.source === 'setting'
              ? `${t.name}  ${t.scopes.join(',')}  BLINDSPOT_ADMIN_TOKENS`
              : `${t.name}  ${t.scopes.join(',')}  managed (${t.created_at} by ${t.created_by})`,
          )
          .join('\n') || 'no tokens',
    };
  }
  throw new Usage(`unknown token command "${verb ?? ''}": add, list or revoke (or blindspot token <name> for an offline token)`);
}

type ChannelRow = {
  id: string;
  type: string;
  ready: boolean;
  config_error: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
  pending: number;
  dead: number;
};
type Sent = { event: string; status: number | null; outcome: string; latency_ms: number; error: string | null };

function channelPlan(verb: string | undefined, rest: string[]): Call {
  if (verb === 'list') {
    if (rest.length > 0) throw new Usage('channel list takes no arguments');
    return {
      method: 'GET',
      path: '/v1/admin/channels',
      say: (a) =>
        (a.channels as ChannelRow[])
          .map(
            (ch) =>
              `${ch.id}  ${ch.type}  ${ch.ready ? 'ready' : `NOT READY: ${ch.config_error ?? ch.last_error ?? 'disabled'}`}  pending ${ch.pending}, dead ${ch.dead}, last success ${ch.last_success_at ?? 'never'}`,
          )
          .join('\n') || 'no channels (add notifications.channels to the watchdog configuration)',
    };
  }
  if (verb === 'test') {
    if (rest.length !== 1 || !/^[A-Za-z0-9_.-]{1,64}$/.test(rest[0] as string))
      throw new Usage('give one channel id, e.g. blindspot channel test oncall');
    const id = rest[0] as string;
    return {
      method: 'POST',
      path: `/v1/admin/channels/${id}/test`,
      // A channel that did not take the test is a failure of the command, not only a line of output.
      failed: (a) => a.ok !== true,
      say: (a) =>
        [
          ...(a.sent as Sent[]).map(
            (s) =>
              `${id} (${a.type as string}) ${s.event}: ${s.outcome}${s.status === null ? '' : `, HTTP ${s.status}`}, ${s.latency_ms} ms${s.error ? ` — ${s.error}` : ''}`,
          ),
          a.ok === true ? `${id}: the receiver took the test notification` : `${id}: the test notification was NOT delivered`,
        ].join('\n'),
    };
  }
  throw new Usage(`unknown channel command "${verb ?? ''}": list or test`);
}

function agentIdOf(rest: string[], verb: string): string {
  if (rest.length !== 1 || !/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(rest[0] as string))
    throw new Usage(`give one agent id (lowercase letters, digits, _ . -), e.g. blindspot agent ${verb} edge-1`);
  return rest[0] as string;
}

type Key = { id: string; created_at: string; created_by: string; secret?: string };

/** What to put in the agent's configuration: the secret, shown this once. */
const issued = (a: Record<string, unknown>, what: string) => {
  const key = a.key as Key;
  return [
    `${what} ${a.agent as string}: key ${key.id}. Its secret is shown this once; put it where the agent reads it:`,
    `  ${key.secret}`,
    `in the agent's configuration: agent_id: ${a.agent as string}, secret_env: BLINDSPOT_AGENT_SECRET (that variable set to the secret)`,
  ].join('\n');
};

const owed = (a: Record<string, unknown>) =>
  `${a.queued_batches} batch(es) waiting for D1${a.oldest_queued_at === null ? '' : `, the oldest from ${a.oldest_queued_at}`}; ` +
  `${a.set_aside_batches} set aside (refused for good), ${a.dropped_batches} dropped (the queue was full)`;

const setAsideLines = (a: Record<string, unknown>) =>
  (a.set_aside as { seq: number; set_aside_at: string; tries: number; last_error: string | null }[]).map(
    (b) => `  batch ${b.seq} set aside at ${b.set_aside_at} after ${b.tries} tries: ${b.last_error ?? 'no error recorded'}`,
  );

function sayReplication(a: Record<string, unknown>): string {
  const next = a.next_try_at === null ? '' : `; next try at ${a.next_try_at}`;
  return [`agent ${a.agent}${a.heard ? '' : ' (not heard yet)'}: ${owed(a)}${next}`, ...setAsideLines(a)].join('\n');
}

function sayWatchdogReplication(a: Record<string, unknown>): string {
  return [`the Watchdog object: ${owed(a)}`, ...setAsideLines(a)].join('\n');
}

function sayFleetReplication(a: Record<string, unknown>): string {
  const own =
    typeof a.watchdog === 'object' && a.watchdog !== null ? [`the Watchdog object: ${owed(a.watchdog as Record<string, unknown>)}`] : [];
  if (a.checked_at === null) return ["no sweep has gathered the agents' queues yet (it runs every minute)", ...own].join('\n');
  const losses = (
    a.agents_with_losses as { agent: string; set_aside_batches: number; dropped_batches: number; last_error: string | null }[]
  ).map((t) => `  ${t.agent}: ${t.set_aside_batches} set aside, ${t.dropped_batches} dropped; ${t.last_error ?? ''}`);
  const count = typeof a.agents_with_losses_count === 'number' ? a.agents_with_losses_count : losses.length;
  const more = count > losses.length ? [`  ... and ${count - losses.length} more agent(s) with losses`] : [];
  return [`${a.agents} agent(s), as the sweep found them at ${a.checked_at}: ${owed(a)}`, ...losses, ...more, ...own].join('\n');
}

function agentPlan(verb: string | undefined, rest: string[], values: Values): Call {
  if (verb === 'add') {
    const id = agentIdOf(rest, 'add');
    return { method: 'POST', path: `/v1/admin/agents/${id}`, say: (a) => issued(a, 'added agent') };
  }
  if (verb === 'rotate') {
    const id = agentIdOf(rest, 'rotate');
    return {
      method: 'POST',
      path: `/v1/admin/agents/${id}/keys`,
      say: (a) =>
        `${issued(a, 'new key for')}\nonce every copy of the agent signs with it: blindspot agent revoke ${id} --key <old key id>`,
    };
  }
  if (verb === 'revoke') {
    const id = agentIdOf(rest, 'revoke');
    const key = values.key;
    if (key !== undefined && !/^[0-9a-f]{12}$/.test(key))
      throw new Usage('--key is a key id as blindspot agent list shows it: 12 hex digits');
    return key === undefined
      ? {
          method: 'DELETE',
          path: `/v1/admin/agents/${id}`,
          say: (a) =>
            `agent ${id} revoked and retired: its heartbeats are refused (401), its silence is not paged` +
            (Number(a.windows_ended) > 0 ? `, and the ${a.windows_ended} window(s) it had open are ended` : ''),
        }
      : { method: 'DELETE', path: `/v1/admin/agents/${id}/keys/${key}`, say: () => `key ${key} of agent ${id} revoked` };
  }
  if (verb === 'list') {
    if (rest.length > 0) throw new Usage('agent list takes no arguments');
    return {
      method: 'GET',
      path: '/v1/admin/agents',
      say: (a) =>
        (a.agents as { id: string; source: string; keys: (Key | null)[]; error: string | null }[])
          .map((g) =>
            g.source === 'setting'
              ? `${g.id}  BLINDSPOT_AGENT_SECRETS  ${g.error === null ? `${g.keys.length} secret(s)` : `refused: ${g.error}`}`
              : `${g.id}  managed  ${g.keys.map((k) => `${k?.id} (${k?.created_at} by ${k?.created_by})`).join(', ')}`,
          )
          .join('\n') || 'no agents',
    };
  }
  if (verb === 'replication') {
    if (rest.length === 0) return { method: 'GET', path: '/v1/admin/replication', say: sayFleetReplication };
    const [action, ...others] = rest.slice(1);
    const id = agentIdOf(rest.slice(0, 1), 'replication');
    if (action === undefined) return { method: 'GET', path: `/v1/admin/agents/${id}/replication`, say: sayReplication };
    if (others.length > 0 || (action !== 'retry' && action !== 'acknowledge'))
      throw new Usage(`after "agent replication ${id}" give retry or acknowledge (or nothing, to see what it owes D1)`);
    if (action === 'retry')
      return {
        method: 'POST',
        path: `/v1/admin/agents/${id}/replication/retry`,
        say: (a) =>
          `agent ${id}: ${a.retried_batches} set-aside batch(es) queued again; blindspot agent replication ${id} shows how they fare`,
      };
    return {
      method: 'POST',
      path: `/v1/admin/agents/${id}/replication/acknowledge`,
      say: (a) =>
        `agent ${id}: ${a.discarded_set_aside_batches} set-aside batch(es) forgotten and ${a.cleared_dropped_batches} dropped cleared; /healthz follows at the next sweep`,
    };
  }
  throw new Usage(`unknown agent command "${verb ?? ''}": add, list, rotate, revoke or replication`);
}

function watchdogPlan(verb: string | undefined, rest: string[]): Call {
  if (verb !== 'replication') throw new Usage(`unknown watchdog command "${verb ?? ''}": replication`);
  const [action, ...others] = rest;
  if (others.length > 0 || (action !== undefined && action !== 'retry' && action !== 'acknowledge'))
    throw new Usage('after "watchdog replication" give retry or acknowledge (or nothing, to see what it owes D1)');
  if (action === undefined) return { method: 'GET', path: '/v1/admin/watchdog/replication', say: sayWatchdogReplication };
  if (action === 'retry')
    return {
      method: 'POST',
      path: '/v1/admin/watchdog/replication/retry',
      say: (a) =>
        `the Watchdog object: ${a.retried_batches} set-aside batch(es) queued again; blindspot watchdog replication shows how they fare`,
    };
  return {
    method: 'POST',
    path: '/v1/admin/watchdog/replication/acknowledge',
    say: (a) =>
      `the Watchdog object: ${a.discarded_set_aside_batches} set-aside batch(es) forgotten and ${a.cleared_dropped_batches} dropped cleared`,
  };
}

function newToken(name: string): string {
  const token = randomBytes(32).toString('hex');
  const entry = JSON.stringify({ [name]: { sha256: createHash('sha256').update(token).digest('hex'), scopes: ['read', 'write'] } });
  return `token (give it to the person or job that uses it; it is not stored anywhere):\n  ${token}\nBLINDSPOT_ADMIN_TOKENS entry (wrangler secret put BLINDSPOT_ADMIN_TOKENS; merge with other entries):\n  ${entry}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const fail = (message: string, code: number) => (process.stderr.write(`blindspot: ${message}\n`), code);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e: unknown) {
    return fail(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`, 2);
  }
  const { positionals, values } = parsed;
  if (values.help || positionals[0] === 'help') {
    const topic = positionals[0] === 'help' ? positionals[1] : positionals[0];
    return (process.stdout.write(`${helpFor(topic)}\n`), 0);
  }
  if (values.output !== undefined && values.output !== 'json' && values.output !== 'text')
    return fail(`-o/--output is text or json, not "${values.output}"`, 2);
  const asJson = values.json === true || values.output === 'json';
  if (positionals[0] === 'completion') {
    const shell = positionals[1] ?? 'bash';
    if (shell !== 'bash' && shell !== 'zsh') return fail('completion is for bash or zsh: blindspot completion bash', 2);
    return (process.stdout.write(completionScript('blindspot', COMMANDS, shell)), 0);
  }
  if (values.version) return (process.stdout.write(`blindspot ${VERSION}\n`), 0);
  if (positionals[0] === 'token' && !['add', 'list', 'revoke'].includes(positionals[1] ?? '')) {
    const name = positionals[1] ?? 'ops';
    if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name))
      return fail('the token name is lowercase letters, digits, _ . - (e.g. blindspot token laptop-alice)', 2);
    process.stdout.write(newToken(name));
    return 0;
  }
  if (positionals[0] === 'check-config') {
    if (positionals.length > 2) return fail('check-config takes one file: blindspot check-config blindspot.config.yaml', 2);
    const { code, text } = checkWatchConfigFile(positionals[1] ?? 'blindspot.config.yaml');
    (code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
    return code;
  }
  if (positionals[0] === 'gaps') {
    let gaps;
    try {
      gaps = gapsQuery(positionals.slice(1), values, Date.now());
    } catch (e: unknown) {
      if (e instanceof Usage) return fail(`${e.message}\n(blindspot --help lists the commands)`, 2);
      throw e;
    }
    return printGaps(gaps.query, gaps.format, fail);
  }
  let call: Call;
  try {
    call = plan(positionals, values, Date.now());
  } catch (e: unknown) {
    if (e instanceof Usage) return fail(`${e.message}\n(blindspot --help lists the commands)`, 2);
    throw e;
  }
  const base = workerUrl();
  const token = process.env.BLINDSPOT_ADMIN_TOKEN?.trim();
  if (base === null) return fail(noWorkerUrl(), 2);
  if (!token) return fail('set BLINDSPOT_ADMIN_TOKEN to an admin token (blindspot token makes one)', 2);
  let res: Response;
  try {
    res = await fetchRetrying(new URL(call.path, base), () => ({
      method: call.method,
      headers: { authorization: `Bearer ${token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(30_000),
    }));
  } catch (e: unknown) {
    return fail(unreachable(new URL(call.path, base), e), 1);
  }
  const answer = (await res.json().catch(() => null)) as (Record<string, unknown> & { error?: { code: string; message: string } }) | null;
  if (!res.ok || answer === null) return fail(refusal(res, answer), 1);
  process.stdout.write(asJson ? `${JSON.stringify(answer, null, 2)}\n` : `${call.say(answer)}\n`);
  const notTold = notToldWarning(answer);
  if (notTold !== null && !asJson) process.stderr.write(`${notTold}\n`);
  return call.failed?.(answer) === true ? 1 : 0;
}

/** A pause is stored, but some agents' objects could not be told of it (`agents_not_told`): they learn of it at their next read. */
export function notToldWarning(answer: Record<string, unknown>): string | null {
  const ids = answer.agents_not_told;
  if (!Array.isArray(ids) || ids.length === 0) return null;
  const who = ids.includes('*')
    ? 'the agents could not be listed, so none was told'
    : `${ids.length} agent(s) (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}) could not be told`;
  return `warning: stored, but ${who} now; they read it themselves within 5 minutes (until then, paging may not have paused or resumed for them)`;
}

/** Fetches every page of the report as JSON and prints it whole, in the format asked for. */
async function printGaps(query: URLSearchParams, format: GapFormat, fail: (message: string, code: number) => number): Promise<number> {
  const base = workerUrl();
  const token = process.env.BLINDSPOT_ADMIN_TOKEN?.trim();
  if (base === null) return fail(noWorkerUrl(), 2);
  let report: GapReportShape | null = null;
  for (let page = 0; page < MAX_GAP_PAGES; page++) {
    let res: Response;
    try {
      res = await fetchRetrying(new URL(`/api/v1/gaps?${query}`, base), () => ({
        headers: token ? { authorization: `Bearer ${token}` } : ({} as Record<string, string>),
        signal: AbortSignal.timeout(60_000),
      }));
    } catch (e: unknown) {
      return fail(unreachable(new URL('/api/v1/gaps', base), e), 1);
    }
    const answer = (await res.json().catch(() => null)) as (GapReportShape & { error?: { code: string; message: string } }) | null;
    if (!res.ok || answer === null) return fail(refusal(res, answer), 1);
    report = report === null ? answer : { ...answer, windows: [...report.windows, ...answer.windows] };
    if (answer.page.next_cursor === null) break;
    query.set('cursor', answer.page.next_cursor);
  }
  if (report === null) return fail('no report', 1);
  const whole = { ...report, page: { ...report.page, returned: report.windows.length, next_cursor: null } };
  process.stdout.write(
    format === 'json' ? `${JSON.stringify(whole, null, 2)}\n` : format === 'csv' ? renderCsv(whole) : renderMarkdown(whole),
  );
  return 0;
}
