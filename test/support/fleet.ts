// Simulated agents that speak the real protocol over HTTP: signed heartbeats (Standard Webhooks
// HMAC-SHA256, computed synchronously with node:crypto so a load generator can sign thousands a
// second) to a Worker on 127.0.0.1. Used by the fault suite and the benchmarks.
import { createHmac } from 'node:crypto';
import { decodeSecret } from '../../protocol/signature.ts';

export interface HeartbeatSpec {
  seq: number;
  boot: string;
  intervalS: number;
  graceS?: number;
  signals?: { name: string; kind: string; value: number | null; error: string | null }[];
  stopping?: boolean;
  /** The agent's clock when it sent the heartbeat; default now. */
  sentAt?: number;
}

export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const keys = new Map<string, Buffer>();

/** The `webhook-signature` value for one secret, synchronously. */
export function signSync(secret: string, id: string, timestamp: number, body: string): string {
  const key = keys.get(secret) ?? Buffer.from(decodeSecret(secret));
  keys.set(secret, key);
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function heartbeatBodyOf(hb: HeartbeatSpec): string {
  return JSON.stringify({
    v: 1,
    seq: hb.seq,
    boot: hb.boot,
    sent_at: new Date(hb.sentAt ?? Date.now()).toISOString(),
    interval_s: hb.intervalS,
    ...(hb.graceS === undefined ? {} : { grace_s: hb.graceS }),
    ...(hb.stopping ? { stopping: true } : {}),
    signals: hb.signals ?? [],
  });
}

/** A signed POST to /v1/agents/{agent}/heartbeats, signed with the agent's secret derived from `secret` (see secretsFor). */
export function signedHeartbeat(agent: string, secret: string, hb: HeartbeatSpec, now = Date.now()): SignedRequest {
  const body = heartbeatBodyOf(hb);
  const id = `msg_${agent}_${hb.boot}_${hb.seq}`;
  const ts = Math.floor(now / 1000);
  return {
    path: `/v1/agents/${agent}/heartbeats`,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signSync(agentSecret(secret, agent), id, ts, body),
    },
    body,
  };
}

export interface PostResult {
  status: number;
  /** The deadline the Worker set (202 only), in ms. */
  deadlineAt: number | null;
  body: string;
}

export async function postSigned(baseUrl: string, req: SignedRequest, timeoutMs = 10_000): Promise<PostResult> {
  const res = await fetch(`${baseUrl}${req.path}`, {
    method: 'POST',
    headers: req.headers,
    body: req.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text();
  let deadlineAt: number | null = null;
  if (res.status === 202) {
    const at = (JSON.parse(body) as { deadline_at?: string }).deadline_at;
    deadlineAt = at === undefined ? null : Date.parse(at);
  }
  return { status: res.status, deadlineAt, body };
}

/** Agent ids fleet-0000 … */
export function fleetOf(n: number, prefix = 'fleet'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
}

const derived = new Map<string, string>();

/**
 * Each agent's own secret, derived from one base secret (the Worker refuses a secret two agents
 * share): whsec_ + base64 of HMAC-SHA256(base, agent id).
 */
export function agentSecret(base: string, agent: string): string {
  const key = `${base}\u0000${agent}`;
  let secret = derived.get(key);
  if (secret === undefined) {
    secret = `whsec_${createHmac('sha256', Buffer.from(decodeSecret(base)))
      .update(agent)
      .digest('base64')}`;
    derived.set(key, secret);
  }
  return secret;
}

/** BLINDSPOT_AGENT_SECRETS for these agents, each with its own secret derived from `base`. */
export function secretsFor(agents: readonly string[], base: string): string {
  return JSON.stringify(Object.fromEntries(agents.map((a) => [a, [agentSecret(base, a)]])));
}

/**
 * A test Worker's settings for these agents (their secrets derived from `base`) and one signed webhook
 * channel, `hook`, at `hookUrl`: every window pages it, with no reminders.
 */
export function hookedWorkerVars(agents: readonly string[], base: string, hookUrl: string, hookSecret: string): Record<string, string> {
  return {
    BLINDSPOT_AGENT_SECRETS: secretsFor(agents, base),
    BLINDSPOT_CONFIG: JSON.stringify({ notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 } }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: hookUrl, secret: hookSecret } }),
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** A failed fetch as text, with its cause (ECONNRESET, "other side closed", a time-out, ...). */
export function fetchErrorText(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return cause === undefined ? text : `${text}: ${cause.code ?? ''} ${cause.message ?? ''}`.trim();
}

/** What one heartbeat of a LoopingAgent got: the last answer, and how many tries it took. */
export type LoopResult = PostResult & { tries: number /** How long the try that answered took. */; ms: number };

/**
 * One simulated agent sending on a timer, as a real one would. A heartbeat that gets no answer at
 * all (the connection reset or refused) is sent again once, 100 ms later, with the same webhook-id,
 * as the agent retries; a 409 replay to that retry means the first try was taken. A heartbeat that
 * no try got through is only a missed beat (null).
 */
export class LoopingAgent {
  seq = 0;
  readonly results: (LoopResult | null)[] = [];
  /** Why each failed try failed. */
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly baseUrl: string,
    readonly id: string,
    readonly secret: string,
    readonly options: { intervalS: number; graceS?: number; boot?: string; signals?: HeartbeatSpec['signals'] },
  ) {}

  get boot(): string {
    return this.options.boot ?? 'loop';
  }

  async beat(stopping = false): Promise<LoopResult | null> {
    const seq = ++this.seq;
    const req = signedHeartbeat(this.id, this.secret, {
      seq,
      boot: this.boot,
      intervalS: this.options.intervalS,
      graceS: this.options.graceS,
      signals: this.options.signals,
      stopping,
    });
    let result: LoopResult | null = null;
    for (let tries = 1; tries <= 2 && result === null; tries++) {
      if (tries > 1) await new Promise((r) => setTimeout(r, 100));
      const startedAt = Date.now();
      const t0 = performance.now();
      result = await postSigned(this.baseUrl, req, 5000).then(
        (answer) => ({ ...answer, tries, ms: performance.now() - t0 }),
        (e: unknown) => {
          this.errors.push(`seq ${seq} try ${tries} at ${new Date(startedAt).toISOString()}: ${fetchErrorText(e)}`);
          return null;
        },
      );
      // A try that timed out has used the interval: the next heartbeat is due, not this one again.
      if (Date.now() - startedAt >= this.options.intervalS * 1000) break;
    }
    this.results.push(result);
    return result;
  }

  /** The Worker took it: 202, or 409 replay to a retry (it had taken the first try). */
  static taken(result: LoopResult | null): boolean {
    return result !== null && (result.status === 202 || (result.status === 409 && result.tries > 1 && result.body.includes('"replay"')));
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalS * 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the way a real agent shuts down: a last heartbeat saying so, after which its silence is no window. */
  async leave(): Promise<LoopResult | null> {
    this.stop();
    return this.beat(true);
  }

  /** The deadline of the last heartbeat the Worker took. */
  lastDeadline(): number {
    return Math.max(0, ...this.results.map((r) => r?.deadlineAt ?? 0));
  }
}
