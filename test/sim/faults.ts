// The simulator's faulty parts, on virtual time: the network the channels send through, and the D1
// the replication queue writes to. Every fault resolves on the simulator's clock, never on the real
// one, so a schedule of hours runs in milliseconds and a seed replays the same way every time.
import type { ChannelId } from './sim-config.ts';

export type ChannelMode = 'ok' | '500' | '429' | 'hang';
export type D1Mode = 'ok' | 'refuse' | 'hang' | 'poison';

/** What a channel's receiver took: one row per request it answered 2xx. */
export interface Received {
  channel: ChannelId;
  /** trigger (opened, escalated, repeat), resolve, or the Watchdog's summary (windows noticed late, its own gap). */
  kind: 'trigger' | 'resolve' | 'summary';
  windowId: string;
  /** What a receiver deduplicates on: webhook-id for the webhook, the dedup key and action for PagerDuty. */
  dedupKey: string;
  at: number;
  /** A summary's windows, by id (the webhook's body lists them; PagerDuty's change event does not). */
  summarised?: string[];
  /** The window as the webhook's body tells it (PagerDuty's does not). */
  window?: { monitor: string; cause: string; startedAt: number; endedAt: number | null; level: string; peak: number | null };
}

/** The channels' receivers, answering as the schedule says. Installed as the isolate's fetch. */
export class SimNet {
  mode: ChannelMode = 'ok';
  readonly received: Received[] = [];
  attempts = 0;
  /** Every request passes here first: the simulator may hold it for ever (an object reset while it awaits). */
  onAwait: ((what: string) => Promise<never> | null) | null = null;
  private original: typeof fetch | null = null;

  constructor(private readonly now: () => number) {}

  install(): void {
    this.original = globalThis.fetch;
    globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => this.answer(new Request(input, init));
  }

  uninstall(): void {
    if (this.original !== null) globalThis.fetch = this.original;
    this.original = null;
  }

  private async answer(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const channel: ChannelId | null = url.hostname === 'pd.sim.invalid' ? 'pd' : url.hostname === 'hook.sim.invalid' ? 'hook' : null;
    if (channel === null) throw new TypeError(`the simulator's network has no host ${url.hostname}`);
    const held = this.onAwait?.(`a request to ${channel}`);
    if (held) return held;
    this.attempts++;
    const body = await req.text();
    if (this.mode === 'hang') throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    if (this.mode === '500') return new Response('{"error":"internal"}', { status: 500 });
    if (this.mode === '429') return new Response('{"error":"slow down"}', { status: 429, headers: { 'retry-after': '30' } });
    this.received.push(parse(channel, req, url, body, this.now()));
    return new Response('{}', { status: 202, headers: { 'content-type': 'application/json' } });
  }
}

interface Payload {
  event_action?: string;
  dedup_key?: string;
  type?: string;
  data?: {
    window_id?: string;
    window?: {
      id: string;
      monitor: string;
      cause: string;
      started_at: string;
      ended_at: string | null;
      level: string;
      peak_value: number | null;
    };
  };
}

function parse(channel: ChannelId, req: Request, url: URL, body: string, at: number): Received {
  const json = JSON.parse(body) as Payload;
  if (channel === 'pd' && url.pathname.endsWith('/change/enqueue'))
    return { channel, kind: 'summary', windowId: '', dedupKey: req.headers.get('idempotency-key') ?? body, at };
  if (json.type === 'watchdog.summary') {
    const windows = (json.data as { windows?: { id: string }[] } | undefined)?.windows ?? [];
    return {
      channel,
      kind: 'summary',
      windowId: '',
      dedupKey: req.headers.get('webhook-id') ?? '',
      at,
      summarised: windows.map((w) => w.id),
    };
  }
  if (channel === 'pd') {
    const kind = json.event_action === 'resolve' ? 'resolve' : 'trigger';
    return { channel, kind, windowId: String(json.dedup_key), dedupKey: `${json.dedup_key}:${json.event_action}`, at };
  }
  const kind = json.type === 'window.closed' ? 'resolve' : 'trigger';
  const w = json.data?.window;
  const window =
    w === undefined
      ? undefined
      : {
          monitor: String(w.monitor),
          cause: String(w.cause),
          startedAt: Date.parse(w.started_at),
          endedAt: w.ended_at === null ? null : Date.parse(w.ended_at),
          level: String(w.level),
          peak: w.peak_value ?? null,
        };
  return {
    channel,
    kind,
    windowId: String(w?.id ?? json.data?.window_id),
    dedupKey: req.headers.get('webhook-id') ?? '',
    at,
    ...(window === undefined ? {} : { window }),
  };
}

/**
 * D1 as the objects and the minute sweep see it (the replication queues' batches, the reads of
 * maintenance, silences and late windows): the real local D1, or refusing (an outage), or hanging,
 * or refusing one batch for good (a constraint, as a real trigger would). A hang is played as the call
 * failing the way the platform ends a hung one (workerd does not let a promise made in one request
 * be settled from another, so the simulator cannot hold it open across steps); the heartbeat's own
 * bounded wait on a hung D1 is tested in test/worker.
 */
export class SimD1 {
  private modeNow: D1Mode = 'ok';
  /** Real D1 calls not yet answered: the simulator waits for them before its next step. */
  inFlight = 0;
  poisoned: string | null = null;
  batchesTaken = 0;
  private epoch = 0;

  private readonly calls = new Set<Promise<unknown>>();
  /** Every batch passes here first: the simulator may hold it for ever (an object reset while it awaits). */
  onAwait: ((what: string) => Promise<never> | null) | null = null;

  /** The object was reset: what its calls had in flight went with it. */
  forget(): void {
    this.epoch++;
    this.inFlight = 0;
    this.calls.clear();
  }

  /** Settles once every real D1 call now in flight has been answered. */
  answered(): Promise<unknown> {
    return Promise.allSettled([...this.calls]);
  }

  realMs = 0;

  /**
   * `rules`: another SimD1 whose mode and poisoned batch this one follows (the Watchdog object's, which
   * tracks its own calls in flight: they belong to its context, and it waits for them itself).
   */
  constructor(
    private readonly real: D1Database,
    private readonly now: () => number,
    private readonly rules: SimD1 | null = null,
  ) {}

  get mode(): D1Mode {
    return this.rules?.mode ?? this.modeNow;
  }

  set mode(mode: D1Mode) {
    this.modeNow = mode;
  }

  /** Resolves once none of this D1's calls is in flight for 64 microtask turns in a row (a drain's next batch starts in fewer). */
  async quiet(): Promise<void> {
    for (let turns = 0, i = 0; turns < 64 && i < 4000; i++) {
      if (this.inFlight > 0) {
        await this.answered();
        turns = 0;
      } else {
        await Promise.resolve();
        turns++;
      }
    }
  }

  /** The D1 the objects and the sweep are handed: batches (replication) and reads (maintenance, silences, late windows). */
  binding(): D1Database {
    return {
      prepare: (query: string) => this.statement(this.real.prepare(query)),
      batch: (statements: D1PreparedStatement[]) => this.batch(statements),
    } as unknown as D1Database;
  }

  /** The real statement (a batch takes it as it is), its reads passing through the faults. */
  private statement(s: D1PreparedStatement): D1PreparedStatement {
    const { bind, first, all, run, raw } = s;
    return Object.assign(s, {
      bind: (...values: unknown[]) => this.statement(bind.apply(s, values)),
      first: (...args: unknown[]) => this.read(() => (first as (...a: unknown[]) => Promise<unknown>).apply(s, args)),
      all: () => this.read(() => all.apply(s)),
      run: () => this.read(() => run.apply(s)),
      raw: (...args: unknown[]) => this.read(() => (raw as (...a: unknown[]) => Promise<unknown>).apply(s, args)),
    });
  }

  /** A read (or a lone write): refused or hung as the schedule says; a constraint bites only batches. */
  private read<T>(call: () => Promise<T>): Promise<T> {
    const held = this.onAwait?.('D1');
    if (held) return held;
    if (this.mode === 'refuse') return Promise.reject(new Error('D1_ERROR: simulated outage: database unavailable'));
    if (this.mode === 'hang')
      return Promise.reject(new Error('D1_ERROR: Network connection lost. (simulated: the call hung until the platform ended it)'));
    return this.answer(call());
  }

  private async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    const held = this.onAwait?.('D1');
    if (held) return held;
    // One batch, by its SQL and its values: a constraint refuses those rows, not every later batch of the same shape.
    const key = JSON.stringify(
      statements.map((s) => {
        const { statement, params } = s as unknown as { statement?: string; params?: unknown[] };
        return [statement ?? String(s), params ?? []];
      }),
    );
    const rules = this.rules ?? this;
    if (this.mode === 'poison' && rules.poisoned === null) rules.poisoned = key;
    if (rules.poisoned === key) throw new Error('D1_ERROR: CHECK constraint failed: simulated (SQLITE_CONSTRAINT)');
    if (this.mode === 'refuse') throw new Error('D1_ERROR: simulated outage: database unavailable');
    if (this.mode === 'hang') throw new Error('D1_ERROR: Network connection lost. (simulated: the call hung until the platform ended it)');
    const results = await this.answer(this.real.batch(statements));
    this.batchesTaken++;
    return results;
  }

  /** A real call to the local D1, counted in flight until it answers. */
  private async answer<T>(call: Promise<T>): Promise<T> {
    this.inFlight++;
    const epoch = this.epoch;
    const t0 = performance.now();
    this.calls.add(call);
    try {
      return await call;
    } finally {
      this.realMs += performance.now() - t0;
      if (epoch === this.epoch) this.inFlight--;
      this.calls.delete(call);
    }
  }
}
