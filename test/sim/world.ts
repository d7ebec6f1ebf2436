// Runs one schedule against the real Worker code in workerd: one agent's Durable Object (its core,
// storage, outbox, replication and notifiers), called as the platform and the routes call it, on a
// virtual clock. The simulator plays the platform: it fires the alarm the object set (or loses,
// delays or doubles it), runs the minute sweep (or stalls it), resets the object, and plays the agent
// and the channels' receivers. Everything it saw is kept for the invariants (invariants.ts).
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import type { Heartbeat, Signal } from '../../protocol/heartbeat.ts';
import type { LiveState } from '../../worker/core/agent-state.ts';
import { sign } from '../../protocol/signature.ts';
import { credentials, forgetSecrets } from '../../worker/durable/credentials.ts';
import type { AgentMonitor, IngestResult } from '../../worker/durable/agent-monitor.ts';
import type { PublicCopy } from '../../worker/durable/public-copy.ts';
import { viewComponents } from '../../worker/core/component-view.ts';
import { copyShardFor, pruneAllCopies } from '../../worker/durable/public-shards.ts';
import type { Watchdog } from '../../worker/durable/watchdog.ts';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { isUnwritten, liveBytes, storedBytes } from '../../worker/store/object-live.ts';
import { pendingCount } from '../../worker/store/object-outbox.ts';
import { watchConfig } from '../../worker/watch-config.ts';
import { tellRetry } from '../../worker/routes/admin-notices.ts';
import type { AdminPauses } from '../../worker/durable/admin-pauses.ts';
import type { Replicator } from '../../worker/durable/replicator.ts';
import { createDb, type Db } from '../../worker/store/db.ts';
import { ADMIN_TOKEN } from '../worker/fixtures/channels.ts';
import { liveInTables } from '../worker/fixtures/durable.ts';
import { failCalls } from '../support/failing-stub.ts';
import { SimD1, SimNet } from './faults.ts';
import { type AlarmMode, prng, type Schedule, type Segment } from './schedule.ts';

/**
 * A schedule's clock starts over a day ahead of real time, at a minute of the UTC day drawn from its
 * noise. The same minute for every run of a seed: what is aligned to the hour or the day (rollup
 * buckets, uptime days, refresh periods) meets the schedule the same way, so a seed replays exactly
 * whenever it is run. It used to start at the next whole minute, and a seed that failed in CI (676,
 * an operator's silence forgotten by an object reset while D1 hung) passed when replayed later.
 */
function startOf(noise: number, now = Date.now()): number {
  const day = Math.ceil((now + 86_400_000) / 86_400_000) * 86_400_000;
  return day + (Math.abs(noise) % 1440) * 60_000;
}
const SWEEP_MS = 60_000;
const ALARM_DELAY_MS = 45_000;
/** After a freeze, the requests it held are taken this long after the alarm and sweeps it held. */
const FREEZE_DRAIN_MS = 100;
/** The healing lasts at least this long, at rest or not. */
const HEAL_MIN_REST_MS = 120_000;
/** After the schedule: everything healthy for this long (past the 5-minute retry ceiling), so every window ends and every page is sent. */
export const HEAL: Segment = {
  durationS: 420,
  agent: 'restart',
  freshness: 'fresh',
  d1: 'ok',
  channel: 'ok',
  alarm: 'on_time',
  sweep: 'on',
  watchdog: 'ok',
  resets: [],
  pause: 'none',
};

export interface Accepted {
  at: number;
  /** When the agent sent it (the simulator's clock: a heartbeat may wait on its way), and its sent_at (the agent's clock). */
  sent: number;
  clock: number;
  boot: string;
  seq: number;
  stopping: boolean;
  /** What the simulated probe measured: the pipeline fresh, and the agent's clock right. */
  fresh: boolean;
  skewed: boolean;
  /** The deadline the object answered. */
  deadlineAt: number;
}

/** An operator's silence over the agent, made and (maybe) expired through the admin API. */
export interface Pause {
  id: string;
  from: number;
  /** When it ended: by its own ends_at, or expired through the API. */
  to: number;
  /** Whether the agent's object held it once the API answered (the API tells the objects D1 knows of). */
  told: boolean;
  /** Whether the object let go of it once the API expired it (always, for one that ends by its own time). */
  releaseTold: boolean;
  /** Expired through the API: after the heartbeats of that instant, which were still taken under it. */
  expired: boolean;
}

export interface D1Window {
  id: string;
  monitor: string;
  cause: string;
  started_at: number;
  ended_at: number | null;
  suppressed_by: string | null;
  level: string;
  peak_value: number | null;
}

export interface Outcome {
  agentId: string;
  intervalS: number;
  /** When the schedule's segments end (the healing phase follows). */
  scheduleEnd: number;
  end: number;
  accepted: Accepted[];
  /** Object calls that threw: each would be a 5xx or a lost alarm run. */
  errors: string[];
  /** Acknowledged state missing after a reset. */
  lostAcks: string[];
  maxStoredBytes: number;
  /** The largest the live state itself (agent row and monitor instances) grew. */
  maxLiveBytes: number;
  received: SimNet['received'];
  d1Windows: D1Window[];
  /** The notifications' states at the end: the object's own outbox (the truth) and D1's copy of it, by id. */
  outboxStates: { object: Record<string, string>; d1: Record<string, string> };
  /** The agent as a whole at the end: its object's live state and D1's agents row (null: none). */
  agentRows: { object: { boot: string; state: string } | null; d1: { boot: string; state: string } | null };
  /** Windows the object holds open at the end, and what its replication reports. */
  openAtEnd: string[];
  setAside: number;
  dropped: number;
  /** Batches still waiting for D1 at the end, and how old the oldest is. */
  queued: number;
  oldestQueuedAt: number | null;
  /** The operator's silences over the agent. */
  pauses: Pause[];
  /** When D1 answered none of the objects' reads (refusing or hanging), back-to-back stretches as one. */
  d1Down: { from: number; to: number }[];
  /** Every evaluation the object made (alarm runs, sweeps, heartbeats taken). */
  evaluations: number[];
  /** Moments a surface would have said "operational" without the evidence for it (the simulator's own record). */
  falseGreen: string[];
  trace: string[];
}

/**
 * A reset armed to land while an object awaits: the k-th D1 call, channel request or timer of any
 * object from the reset's time on never answers, the step ends there, and the objects are reset with
 * that work suspended at its await.
 */
interface Trap {
  remaining: number;
  sprung: boolean;
}

/** Thrown through the simulator's own awaits when an armed reset has landed. */
class ResetAtAwait extends Error {}

/** Real time spent in each kind of call into the objects, and in settling, over every schedule this shard ran (SIM_PROFILE prints it). */
export const timeSpent: Record<string, { ms: number; n: number }> = {};
/** Schedules (of this shard) in which the operator retried batches set aside: how often the replay is played. */
export const played = { retries: 0 };
function spent(kind: string, since: number): void {
  const t = (timeSpent[kind] ??= { ms: 0, n: 0 });
  t.ms += performance.now() - since;
  t.n++;
}

const SPRUNG = Symbol('sprung');

/** Settles once the trap is sprung (a flag polled on timers: a promise made in one object cannot be settled from another). */
async function sprung(trap: Trap, done: () => boolean): Promise<typeof SPRUNG | null> {
  while (!trap.sprung && !done()) await new Promise((r) => setTimeout(r, 0));
  return trap.sprung ? SPRUNG : null;
}

interface Pending {
  at: number;
  body: Heartbeat;
  id: string;
  order: number;
  sent: number;
}

export class World {
  /** When the schedule starts (startOf). */
  private readonly start: number;
  private now: number;
  private readonly net = new SimNet(() => this.now);
  private readonly d1: SimD1;
  /** The same D1 as the objects' readers and the sweep see it. */
  private readonly faultyDb: Db;
  /** The Watchdog object's D1: the same faults, its own calls in flight. */
  private readonly watchdogD1: SimD1;
  private readonly rng: () => number;
  private readonly jitter: () => number;
  /** Draws, segment by segment, whether the credentials store is away (drawn from the noise: the schedules of older seeds are unchanged). */
  private readonly keysDraw: () => number;
  /** Draws whether the crons a stall held run together when the sweep is back (from the noise, as keysDraw). */
  private readonly sweepDraw: () => number;
  /** Draws, segment by segment, whether the Worker freezes at its start, and for how long (from the noise, as keysDraw). */
  private readonly freezeDraw: () => number;
  /** Draws, segment by segment, whether a Worker not frozen otherwise freezes until just after the agent's deadline (from the noise, as keysDraw). */
  private readonly edgeFreezeDraw: () => number;
  /** Draws, request by request, whether the admin API's tells to the object fail, and how many times (from the noise, as keysDraw). */
  private readonly tellDraw: () => number;
  /** Draws what the operator does with a batch D1 refused for good, at the healing's start (from the noise, as keysDraw). */
  private readonly fixDraw: () => number;
  /**
   * While the Worker is frozen (a paused process, a stalled isolate): nothing of it runs until then.
   * The alarm and the sweeps it held run at that moment, and what came in meanwhile (the agent's
   * heartbeats, the operator's requests) FREEZE_DRAIN_MS after, in order, as a stalled Worker drains
   * its queue.
   */
  private frozenUntil: number | null = null;
  /** Sweeps the stall held since the last one ran. */
  private sweepsHeld = 0;
  /** While the credentials store is made unreachable: the namespace's own `get` (or none: the prototype's), put back after. */
  private keysAwayOn: { own: boolean; get: unknown } | null = null;
  private get keysAway(): boolean {
    return this.keysAwayOn !== null;
  }
  private stub: DurableObjectStub<AgentMonitor>;
  /** This schedule's own Watchdog object (its ticks, summaries and their outbox), on the simulator's clock. A stub is made where it is used: one made in another object's context cannot be used there. */
  private get watchdog(): DurableObjectStub<Watchdog> {
    return env.WATCHDOG.get(env.WATCHDOG.idFromName(`watchdog-${this.agentId}`));
  }
  private boot: string;
  private bootNo = 1;
  private seq = 0;
  private nextBeatAt: number;
  private alarmAt: number | null = null;
  private lostAlarm: number | null = null;
  private nextSweepAt: number;
  private pending: Pending[] = [];
  /** What the operator does through the admin API, in order: played after the heartbeats of the same instant. */
  private operator: { at: number; run: () => Promise<void> }[] = [];
  private order = 0;
  /** Heartbeats handed to the object since the last one it acknowledged: a reset may find one of them stored, unanswered. */
  private sinceAck = new Map<string, Omit<Accepted, 'deadlineAt'>>();
  private stopped = false;
  private readonly out: Outcome;
  steps = 0;
  private handle: { instance: AgentMonitor; state: DurableObjectState } | null = null;
  private seg: { s: Segment; end: number; resets: { at: number; await: number }[]; sameInstant: number; pause: Pause | null } | null = null;
  private trap: Trap | null = null;
  /** The public-copy writers whose calls pass through atAwait. */
  private readonly hooked = new WeakSet<object>();
  /** The pauses whose forced re-reads count as tells (hookTold). */
  private readonly toldHooked = new WeakSet<object>();
  /** How many times the admin API told the object of a pause (hookTold). */
  private toldCalls = 0;
  private readonly queue: Segment[];
  private readonly config = watchConfig(env).config;
  /** The agent's key, when its heartbeats go through the Worker's route. */
  private secret: string | null = null;
  settleMs = 0;
  /** Sweeps in a row, during the healing, that found the world at rest (see healed()). */
  private restfulSweeps = 0;

  constructor(
    readonly agentId: string,
    private readonly schedule: Schedule,
    /** Notes the object's silence window at each step (replaying one seed). */
    private readonly verbose = false,
  ) {
    this.start = startOf(schedule.noise);
    this.now = this.nextBeatAt = this.start;
    this.nextSweepAt = this.start + SWEEP_MS;
    this.d1 = new SimD1(env.DB, () => this.now);
    this.watchdogD1 = new SimD1(env.DB, () => this.now, this.d1);
    this.d1.onAwait = this.watchdogD1.onAwait = this.net.onAwait = (what) => this.atAwait(what);
    this.faultyDb = createDb(this.d1.binding());
    this.rng = prng(schedule.noise);
    this.jitter = prng(schedule.noise ^ 0x5bd1e995);
    this.keysDraw = prng(schedule.noise ^ 0x2545f491);
    this.sweepDraw = prng(schedule.noise ^ 0x68e31da4);
    this.freezeDraw = prng(schedule.noise ^ 0x1b873593);
    this.edgeFreezeDraw = prng(schedule.noise ^ 0x27d4eb2f);
    this.tellDraw = prng(schedule.noise ^ 0x7feb352d);
    this.fixDraw = prng(schedule.noise ^ 0x3c6ef372);
    this.stub = env.AGENT.get(env.AGENT.idFromName(agentId));
    this.boot = `${agentId}-b1`;
    this.queue = [...schedule.segments, HEAL];
    this.out = {
      agentId,
      intervalS: schedule.intervalS,
      scheduleEnd: 0,
      end: 0,
      accepted: [],
      errors: [],
      lostAcks: [],
      maxStoredBytes: 0,
      maxLiveBytes: 0,
      received: this.net.received,
      d1Windows: [],
      outboxStates: { object: {}, d1: {} },
      agentRows: { object: null, d1: null },
      openAtEnd: [],
      setAside: 0,
      dropped: 0,
      queued: 0,
      oldestQueuedAt: null,
      falseGreen: [],
      pauses: [],
      d1Down: [],
      evaluations: [],
      trace: [],
    };
  }

  async run(): Promise<Outcome> {
    this.net.install();
    // What the object logs goes into the trace, not through the test runner's console (costly, and noise).
    const { error, warn, log } = console;
    console.error = console.warn = console.log = (...args: unknown[]) => this.log(`log: ${args.map(String).join(' ').slice(0, 300)}`);
    try {
      if (this.schedule.route === true) this.secret = await this.addAgent();
      // Between resets the simulator runs inside the object's own context (its I/O belongs to it), and
      // calls the instance directly; a reset ends that run, and the next one starts on a new instance.
      while ((await this.inObject(() => this.drive())) === 'reset') await this.reset();
      this.out.end = this.now;
      await this.inObject(() => this.finish());
      return this.out;
    } finally {
      await this.keyStoreAway(false);
      this.net.uninstall();
      Object.assign(console, { error, warn, log });
    }
  }

  private async inObject<T>(work: () => Promise<T>): Promise<T> {
    const clock = { now: () => this.now, sleep: () => this.atAwait('a timer') ?? Promise.resolve() };
    await runInDurableObject(this.watchdog, (w: Watchdog) => {
      // D1 answers in no virtual time: a bounded wait of the Watchdog sees its calls through (in its own
      // context: the simulator, in the agent object's, must not await them).
      w.clock = { now: () => this.now, sleep: () => this.atAwait('a timer') ?? this.watchdogD1.quiet() };
      (w as unknown as { replicator: Replicator }).replicator.d1 = this.watchdogD1.binding();
    });
    return runInDurableObject(this.stub, async (instance: AgentMonitor, state) => {
      instance.clock = clock;
      this.hookCopy(instance);
      this.hookTold(instance);
      instance.random = this.jitter;
      instance.replicator.d1 = this.d1.binding();
      (instance as unknown as { pauses: AdminPauses }).pauses.db = this.faultyDb;
      this.handle = { instance, state };
      try {
        return await work();
      } finally {
        this.handle = null;
      }
    });
  }

  /** Runs the schedule (and the healing after it) until a reset is due or everything is done. */
  private async drive(): Promise<'reset' | 'done'> {
    for (;;) {
      if (this.seg === null) {
        const s = this.queue.shift();
        if (s === undefined) return 'done';
        if (s === HEAL) this.out.scheduleEnd = this.now;
        await this.enter(s);
      }
      let r: Awaited<ReturnType<World['step']>>;
      try {
        r = await this.step();
      } catch (e: unknown) {
        if (e instanceof ResetAtAwait) return 'reset';
        throw e;
      }
      if (r === 'reset') return 'reset';
      if (r === 'end') {
        this.endPause();
        this.seg = null;
      }
    }
  }

  profile(): string {
    return `settling ${Math.round(this.settleMs)} ms, D1 ${Math.round(this.d1.realMs + this.watchdogD1.realMs)} ms in ${this.d1.batchesTaken + this.watchdogD1.batchesTaken} batches`;
  }

  trace(): string[] {
    return this.out.trace;
  }

  private log(line: string): void {
    this.out.trace.push(`+${((this.now - this.start) / 1000).toFixed(1)}s ${line}`);
  }

  /** Calls into the object as the platform would, with the simulator's clock, jitter and D1. */
  private async call<T>(what: string, fn: (o: AgentMonitor, state: DurableObjectState) => Promise<T> | T): Promise<T | undefined> {
    this.steps++;
    if (this.handle === null) throw new Error(`${what}: called outside the object`);
    const { instance, state } = this.handle;
    const t0 = performance.now();
    try {
      return await this.guard(Promise.resolve().then(() => fn(instance, state)));
    } catch (e: unknown) {
      if (e instanceof ResetAtAwait) throw e;
      this.out.errors.push(`+${(this.now - this.start) / 1000}s ${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.log(`${what} threw`);
      return undefined;
    } finally {
      if (this.trap?.sprung !== true) {
        this.alarmAt = await state.storage.getAlarm();
        this.out.maxStoredBytes = Math.max(this.out.maxStoredBytes, storedBytes(state.storage.sql));
        if (!isUnwritten(state.storage.sql)) this.out.maxLiveBytes = Math.max(this.out.maxLiveBytes, liveBytes(state.storage.sql));
      }
      spent(what.split(' ')[0] as string, t0);
    }
  }

  /** Arms a reset to land at the k-th await of the objects (see Trap). */
  private arm(k: number): void {
    this.trap = { remaining: k, sprung: false };
  }

  /**
   * Counts the admin API's calls that tell the object of a pause: each is an evaluation then and there
   * (maintenanceChanged, which alone re-reads the pauses with force). The API tells only the agents it
   * can list (from D1, the public copies or the credentials store); one listed in none is not told,
   * and evaluates nothing. (Hooked on the pauses, not on the method: an RPC reaches only the class's
   * own methods, never one set on the instance.)
   */
  private hookTold(instance: AgentMonitor): void {
    const pauses = (instance as unknown as { pauses: AdminPauses }).pauses;
    if (this.toldHooked.has(pauses)) return;
    this.toldHooked.add(pauses);
    const refresh = pauses.refresh.bind(pauses);
    pauses.refresh = (now, force) => {
      if (force === true) this.toldCalls++;
      return refresh(now, force);
    };
  }

  /** The object's write of its public copy is an await a reset may land on too. */
  private hookCopy(instance: AgentMonitor): void {
    const copy = (instance as unknown as { copy: PublicCopy }).copy;
    if (this.hooked.has(copy)) return;
    this.hooked.add(copy);
    const publish = copy.publish.bind(copy);
    copy.publish = (...args) => this.atAwait('its public copy') ?? publish(...args);
  }

  /** Each D1 call, channel request and timer of the objects passes here; an armed reset lands on its k-th, which never answers. */
  private atAwait(what: string): Promise<never> | null {
    const trap = this.trap;
    if (trap === null || trap.sprung || --trap.remaining > 0) return null;
    trap.sprung = true;
    this.log(`object reset while it awaits ${what}`);
    return new Promise<never>(() => {});
  }

  /** Awaits the simulator's own call, unless an armed reset lands first: then the step ends there. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    const trap = this.trap;
    if (trap === null) return work;
    let settled = false;
    const watched = work.finally(() => (settled = true));
    const landed = sprung(trap, () => settled).then(async (x): Promise<T | typeof SPRUNG> => (x === SPRUNG ? SPRUNG : await watched));
    const r: T | typeof SPRUNG = await Promise.race([watched, landed]);
    if (r === SPRUNG || trap.sprung) throw new ResetAtAwait();
    return r as T;
  }

  /**
   * Lets the object's background work (deliveries, D1 writes) finish before the next step: microtask
   * turns while only the simulator's parts are involved; while real D1 calls are out, their answers.
   */
  private async settle(): Promise<void> {
    const t0 = performance.now();
    for (let quiet = 0, i = 0; quiet < 64 && i < 4000; i++) {
      if (this.d1.inFlight > 0) {
        await this.guard(this.d1.answered());
        quiet = 0;
      } else {
        await Promise.resolve();
        quiet++;
      }
      if (this.trap?.sprung) throw new ResetAtAwait();
    }
    this.settleMs += performance.now() - t0;
    spent('settling', t0);
  }

  private async enter(given: Segment): Promise<void> {
    const s: Segment = given.watchdog === 'away' ? { ...given, alarm: 'lost', sweep: 'stalled' } : given;
    const start = this.now;
    this.net.mode = s.channel;
    this.d1.mode = s.d1;
    if (s.d1 === 'refuse' || s.d1 === 'hang') {
      const last = this.out.d1Down.at(-1);
      const to = start + s.durationS * 1000;
      if (last !== undefined && last.to >= start) last.to = to;
      else this.out.d1Down.push({ from: start, to });
    }
    this.log(
      `segment ${s.durationS}s agent=${s.agent} freshness=${s.freshness} d1=${s.d1} channel=${s.channel} alarm=${s.alarm} sweep=${s.sweep}${given.watchdog === 'away' ? ' (watchdog away)' : ''} resets=${s.resets.length}`,
    );
    // One segment in eight of a schedule through the route: the key store is away, and the Worker has
    // not cached the agent's keys; its object's copy of them must verify its heartbeats.
    await this.keyStoreAway(given !== HEAL && this.schedule.route === true && this.keysDraw() < 0.125);
    if (this.keysAway) this.log('the credentials store cannot be reached');
    // One segment in six (not the healing): the Worker freezes at its start, for 15 s to 2 minutes
    // but at most to a second before the segment's end, over the deadline of the heartbeat before.
    const [freezes, length] = [this.freezeDraw() < 1 / 6, 15_000 + Math.floor(this.freezeDraw() * 105_000)];
    const until = Math.min(start + length, start + s.durationS * 1000 - 1000);
    this.frozenUntil = given !== HEAL && freezes && until - start >= 12_000 ? until : null;
    // One segment in eight of the others: the Worker freezes from its start until 1 to 250 ms after the
    // deadline of the last heartbeat taken, if that falls inside it: the overdue alarm seems on time,
    // and the heartbeats the freeze held come right after it.
    const [edge, after] = [this.edgeFreezeDraw() < 1 / 8, 1 + Math.floor(this.edgeFreezeDraw() * 250)];
    const deadline = this.out.accepted.at(-1)?.deadlineAt;
    if (
      given !== HEAL &&
      this.frozenUntil === null &&
      edge &&
      deadline !== undefined &&
      deadline > start &&
      deadline + after < start + s.durationS * 1000 - 1000
    )
      this.frozenUntil = deadline + after;
    if (this.frozenUntil !== null) this.log(`the Worker freezes until +${((this.frozenUntil - this.start) / 1000).toFixed(3)}s`);
    const resets = s.resets
      .map((f, i) => ({ at: start + Math.floor(f * s.durationS * 1000), await: s.resetAwaits?.[i] ?? 0 }))
      .sort((a, b) => a.at - b.at);
    this.seg = { s, end: start + s.durationS * 1000, resets, sameInstant: 0, pause: null };
    const mode = s.pause;
    const seg = this.seg;
    if (mode === 'silence' || mode === 'silence_expired')
      this.operator.push({ at: start, run: async () => void (seg.pause = await this.startPause(mode, seg.end)) });
    // D1 refused a batch for good: in two schedules in three the operator, seeing it set aside, fixes
    // D1 as the healing starts (a migration applied) and retries it through the admin API; windows
    // may still be open, and newer batches are in D1 already. In the others it stays refused.
    if (given === HEAL && this.d1.poisoned !== null && this.fixDraw() < 2 / 3)
      this.operator.push({ at: start, run: () => this.fixD1AndRetry() });
    if (s.agent === 'restart' || (this.stopped && s.agent !== 'dead' && s.agent !== 'stopping')) this.newBoot();
    if (s.agent === 'stopping' && !this.stopped) {
      await this.beat(s, true);
      this.stopped = true;
    }
  }

  /** Plays the next instant at which something happens in the segment. */
  private async step(): Promise<'reset' | 'end' | 'continue'> {
    const seg = this.seg as NonNullable<World['seg']>;
    const { s, end, resets } = seg;
    const alarm = this.thawed(this.alarmDue(s.alarm));
    const t = Math.min(
      end,
      this.nextBeatAt,
      resets[0]?.at ?? Infinity,
      this.drained(this.pending[0]?.at) ?? Infinity,
      this.drained(this.operator[0]?.at) ?? Infinity,
      alarm ?? Infinity,
      s.sweep === 'on' ? (this.thawed(this.nextSweepAt) as number) : Infinity,
    );
    if (t >= end) {
      this.now = end;
      return 'end';
    }
    seg.sameInstant = t <= this.now ? seg.sameInstant + 1 : 0;
    if (seg.sameInstant > 100) {
      this.out.errors.push(
        `+${(this.now - this.start) / 1000}s livelock: the object keeps asking for its alarm at ${this.alarmAt} without time passing`,
      );
      this.now = end;
      return 'end';
    }
    this.now = Math.max(this.now, t);
    const reset = resets[0];
    if (reset !== undefined && reset.at <= this.now) {
      resets.shift();
      if (reset.await === 0) return 'reset';
      this.arm(reset.await);
    }
    while (this.pending[0] !== undefined && (this.drained(this.pending[0].at) as number) <= this.now) {
      const p = this.pending.shift() as Pending;
      await this.deliver(p.body, p.id, p.sent);
    }
    if (this.nextBeatAt <= this.now) {
      this.nextBeatAt = this.now + (s.agent === 'slow' ? 2 * this.schedule.intervalS * 1000 + 1000 : this.schedule.intervalS * 1000);
      if (!this.stopped && s.agent !== 'dead') await this.beat(s, false);
    }
    while (this.operator[0] !== undefined && (this.drained(this.operator[0].at) as number) <= this.now)
      await (this.operator.shift() as World['operator'][number]).run();
    if (alarm !== null && alarm <= this.now) await this.fireAlarm(s.alarm, alarm);
    let swept = false;
    if (s.sweep === 'on' && (this.thawed(this.nextSweepAt) as number) <= this.now) {
      this.nextSweepAt += SWEEP_MS;
      this.out.evaluations.push(this.now);
      // Half the time, the crons a stall held run at once when it ends: two sweeps side by side.
      await this.sweep(this.sweepsHeld > 0 && this.sweepDraw() < 0.5 ? 2 : 1);
      this.sweepsHeld = 0;
      swept = true;
    } else if (s.sweep === 'stalled' && this.nextSweepAt <= this.now) {
      this.nextSweepAt = this.now + SWEEP_MS;
      this.sweepsHeld++;
    }
    await this.settle();
    await this.checkClaims();
    if (this.trap !== null) {
      // The armed reset found no await to land on within the step: it lands between steps.
      this.log('object reset (no await came)');
      return 'reset';
    }
    if (swept && s === HEAL && (await this.healed())) {
      this.log('at rest: the healing ends here');
      return 'end';
    }
    return 'continue';
  }

  /** When something of the Worker due at `at` runs: at once, or when a freeze it falls in ends. */
  private thawed(at: number | null): number | null {
    return at !== null && this.frozenUntil !== null && at < this.frozenUntil ? this.frozenUntil : at;
  }

  /** When a request that came in at `at` is taken: at once, or as the queue drains after a freeze it falls in. */
  private drained(at: number | undefined): number | null {
    if (at === undefined) return null;
    return this.frozenUntil !== null && at <= this.frozenUntil ? Math.max(at, this.frozenUntil + FREEZE_DRAIN_MS) : at;
  }

  /**
   * Makes the credentials store unreachable (its reads of an agent's secrets fail), or answering again.
   * Held for the whole segment, not around each heartbeat: a reset can leave a heartbeat suspended at
   * an await for good, and what it held would never be given back (nor anything after the run).
   */
  private async keyStoreAway(away: boolean): Promise<void> {
    if (away === this.keysAway) return;
    type Namespace = { get: (id: DurableObjectId, ...rest: unknown[]) => object };
    const ns = env.WATCHDOG as unknown as Namespace;
    if (!away) {
      const on = this.keysAwayOn as NonNullable<World['keysAwayOn']>;
      if (on.own) ns.get = on.get as Namespace['get'];
      else delete (ns as Partial<Namespace>).get;
      this.keysAwayOn = null;
      return;
    }
    // The callers' calls fail, as an unreachable object's do; the object itself is not touched (an
    // exception thrown inside it would be logged by the runtime as uncaught, once per heartbeat).
    const store = credentials(env).id;
    const get = ns.get;
    this.keysAwayOn = { own: Object.hasOwn(ns, 'get'), get };
    ns.get = (id, ...rest) => {
      const stub = get.call(ns, id, ...rest);
      if (!id.equals(store)) return stub;
      return new Proxy(stub, {
        get: (target, key) =>
          key === 'agentSecrets' || key === 'managedAgentIds'
            ? () => Promise.reject(new Error('the credentials store cannot be reached (simulated)'))
            : Reflect.get(target, key),
      });
    };
  }

  /**
   * The healing may end early once the world is at rest, judged at each of its sweeps: no window
   * open, nothing waiting to be sent (the agent's outbox and the Watchdog's) or replicated, nothing
   * of the operator's or the agent's still to come; at two sweeps in a row (the second summarised a
   * settled D1) and at least HEAL_MIN_REST_MS into the healing. Until then it runs its full length
   * and the invariants judge what is left.
   */
  private async healed(): Promise<boolean> {
    const live = this.handle?.instance.getStatus() ?? null;
    const open = live === null || live.silence?.window != null || Object.values(live.monitors).some((m) => m.window != null);
    let rest = !open && this.pending.length === 0 && this.operator.length === 0 && this.now - this.out.scheduleEnd >= HEAL_MIN_REST_MS;
    if (rest) {
      const health = this.handle?.instance.health();
      rest = health !== undefined && health.replication.length === 0 && health.pendingNotifications === 0;
    }
    if (rest) rest = (await runInDurableObject(this.watchdog, (_w: Watchdog, state) => pendingCount(state.storage.sql))) === 0;
    this.restfulSweeps = rest ? this.restfulSweeps + 1 : 0;
    return this.restfulSweeps >= 2;
  }

  /**
   * Never green without proof, from the simulator's own record: the public view of the object's state
   * may call the pipeline operational only while the newest heartbeat it took was measured fresh by a
   * probe, with a true clock, not a goodbye, and its interval and grace have not run out.
   */
  private async checkClaims(): Promise<void> {
    if (this.handle === null || this.out.falseGreen.length > 0) return;
    const why = this.unproven(this.out.accepted.at(-1));
    if (why === null) return;
    const green = (live: LiveState | null) =>
      viewComponents(this.config, [{ id: this.agentId, live }], this.now, false)
        .filter((v) => v.status === 'operational')
        .map((v) => v.id);
    const at = `+${((this.now - this.start) / 1000).toFixed(1)}s`;
    // What the object holds in memory is what its last transaction stored (a failed one throws, and is an error above).
    const claimed = green(this.handle.instance.getStatus());
    if (claimed.length > 0) return void this.out.falseGreen.push(`${at} ${claimed.join(', ')} operational, but ${why}`);
    // What the public surfaces read: the object's copy in its shard of the Watchdog objects. It may lag
    // the object (a decision waits for it a bounded time; a reset can lose a write in flight), but it
    // must never claim more than the heartbeat it reflects proves.
    const copy = (await copyShardFor(env, this.agentId).publicCopies()).find((c) => c.id === this.agentId)?.live ?? null;
    if (copy === null) return;
    const reflected = this.out.accepted.findLast((a) => a.boot === copy.boot && a.seq === copy.seq);
    const copyWhy = this.unproven(reflected, 'the heartbeat it reflects');
    const copyClaims = copyWhy === null ? [] : green(copy);
    if (copyClaims.length > 0)
      this.out.falseGreen.push(
        `${at} ${copyClaims.join(', ')} operational in the public copy (of ${copy.boot}#${copy.seq}), but ${copyWhy}`,
      );
  }

  /** Why a surface may not call the pipeline operational on this heartbeat now, or null if it proves it. */
  private unproven(last: Accepted | undefined, which = 'the newest heartbeat'): string | null {
    const budgetMs = this.schedule.intervalS * 2 * 1000;
    return last === undefined
      ? which === 'the newest heartbeat'
        ? 'no heartbeat was ever taken'
        : `${which} is none the simulator saw taken`
      : this.now > last.at + budgetMs
        ? `${which} taken is ${(this.now - last.at) / 1000} s old (budget ${budgetMs / 1000} s)`
        : last.stopping
          ? `${which} was a goodbye`
          : !last.fresh
            ? `${which} measured the pipeline stale`
            : last.skewed
              ? `${which} came from a skewed clock`
              : null;
  }

  /**
   * The minute sweep as the cron runs it (worker/jobs/sweep.ts): the Watchdog's tick, every known
   * subject's ensureAlarm (this agent's object), the fleet's replication, the summary of what was
   * noticed late; then the Watchdog's alarm, which sends what its summaries still owe. `together`
   * sweeps run side by side, as crons a stall held do when it ends.
   */
  private async sweep(together = 1): Promise<void> {
    const w = this.watchdog;
    if (together > 1) this.log(`${together} sweeps at once (the crons the stall held)`);
    await this.call('sweep', async () => {
      const one = () =>
        runSweep({
          ...sweepDeps(env),
          // The sweep reads late windows from, and prunes, the same faulty D1 as the objects.
          db: this.faultyDb,
          d1: this.d1.binding(),
          // The one agent of the schedule (durable/known-subjects.ts has its own tests): 9 calls fewer a minute.
          subjects: async () => [this.agentId],
          // Its object's visit, called on the instance the simulator runs in rather than through a stub to
          // itself (the platform's RPC is tested elsewhere; under the test pool each costs a second call).
          visit: (_id, now) => (this.handle as NonNullable<World['handle']>).instance.visit(now),
          tick: (now) => w.tick(now),
          recordFleet: (fleet, resumeAfter) => w.recordFleet(fleet, resumeAfter),
          summarise: (late, channels, history) => w.summarise(late, channels, history),
          now: () => this.now,
        });
      const reports = await Promise.all(Array.from({ length: together }, one));
      const ran = reports.flatMap((r) => [...r.fired.map(() => 'ran its overdue alarm'), ...r.rearmed.map(() => 're-armed its alarm')]);
      if (ran.length > 0) this.log(`sweep: the object ${ran.join(', ')}${this.silenceNote()}`);
      const failed = reports.flatMap((r) => r.failed);
      if (failed.length > 0) throw new Error(`the sweep could not check ${failed.join(', ')}`);
      await w.deliverSummaries();
    });
  }

  /**
   * The operator, seeing batches set aside (the agent's object's or the Watchdog's, as /healthz and the
   * admin API show them), fixes what D1 refused for good and queues them again. With nothing set aside
   * (yet) nothing is done: D1 stays as it is.
   */
  private async fixD1AndRetry(): Promise<void> {
    const aside = [await this.admin('GET', `/agents/${this.agentId}/replication`), await this.admin('GET', '/watchdog/replication')];
    if (aside.every((a) => Number(a?.set_aside_batches ?? 0) === 0)) return;
    this.d1.poisoned = null;
    played.retries++;
    const agent = await this.admin('POST', `/agents/${this.agentId}/replication/retry`);
    const watchdog = await this.admin('POST', '/watchdog/replication/retry');
    this.log(
      `operator: D1 fixed; set-aside batches queued again: the object's ${agent?.retried_batches}, the Watchdog's ${watchdog?.retried_batches}`,
    );
  }

  /** Calls the Worker's admin API as an operator would (it tells the agents' objects before it answers). */
  private async admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown> | null> {
    this.steps++;
    // Resets land at the awaits of heartbeats, alarms and sweeps: an armed one waits out the operator's request.
    const trap = this.trap;
    this.trap = null;
    // One request in four: its tells to the object fail once, twice or every time (the object reset or
    // moved under the call). The API tries twice more; after the third failure the object is not told.
    const failing = this.tellDraw() < 0.25 ? 1 + Math.floor(this.tellDraw() * 3) : 0;
    const restore = failing > 0 ? this.failTells(failing) : () => {};
    try {
      const res = await exports.default.fetch(
        new Request(`https://blindspot.sim/v1/admin${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
      const text = await res.text();
      if (res.status >= 500) this.out.errors.push(`+${(this.now - this.start) / 1000}s admin ${method} ${path}: ${res.status} ${text}`);
      return res.ok ? (JSON.parse(text) as Record<string, unknown>) : null;
    } finally {
      restore();
      this.trap = trap;
    }
  }

  /**
   * The admin API's next `times` tells to this agent's object fail, as a call to an object reset or
   * moved under it does (at the caller's stub, as keyStoreAway fails the credentials store's). The
   * API's waits between its tries take no virtual time. Returns what puts both back.
   */
  private failTells(times: number): () => void {
    const waits = tellRetry.waitsMs;
    const restore = failCalls(env.AGENT, env.AGENT.idFromName(this.agentId), 'maintenanceChanged', times, (failed) => {
      if (failed) this.log("the admin API's tell to the object failed");
    });
    tellRetry.waitsMs = waits.map(() => 0);
    return () => {
      restore();
      tellRetry.waitsMs = waits;
    };
  }

  /** Whether the object holds the silence now (the API told it, or it re-read). */
  private holdsPause(id: string): boolean {
    const pauses = (this.handle?.instance as unknown as { pauses: { maintenance: { id: string }[] } } | undefined)?.pauses;
    return pauses?.maintenance.some((m) => m.id === `silence:${id}`) ?? false;
  }

  /** An operator silences the agent for the segment: ending by its own time, or set longer and expired at the segment's end. */
  private async startPause(mode: 'silence' | 'silence_expired', end: number): Promise<Pause | null> {
    const endsAt = mode === 'silence' ? end : end + 3_600_000;
    const toldBefore = this.toldCalls;
    const made = await this.admin('POST', '/silences', {
      reason: 'simulated operator',
      agents: [this.agentId],
      starts_at: new Date(this.now).toISOString(),
      ends_at: new Date(endsAt).toISOString(),
    });
    const id = (made?.silence as { id?: string } | undefined)?.id;
    if (id === undefined) {
      this.log('silence refused by the admin API');
      return null;
    }
    const pause: Pause = {
      id,
      from: this.now,
      to: end,
      told: this.holdsPause(id),
      releaseTold: mode === 'silence',
      expired: mode === 'silence_expired',
    };
    this.out.pauses.push(pause);
    // Told of it, the object evaluated there and then.
    if (this.toldCalls > toldBefore) this.out.evaluations.push(this.now);
    this.log(
      `silence ${id} until +${((end - this.start) / 1000).toFixed(1)}s${mode === 'silence_expired' ? ' (to be expired)' : ''}${pause.told ? '' : ' (object not told)'}`,
    );
    return pause;
  }

  /** At the segment's end (after that instant's heartbeats), the operator expires a silence set for longer. */
  private endPause(): void {
    const seg = this.seg;
    const pause = seg?.pause;
    if (pause == null || seg?.s.pause !== 'silence_expired') return;
    this.operator.push({
      at: this.now,
      run: async () => {
        const toldBefore = this.toldCalls;
        await this.admin('DELETE', `/silences/${pause.id}`);
        // Held in force until the API took the request (a frozen Worker takes it late).
        pause.to = this.now;
        // Let go of (or never held: then no re-read is awaited either).
        pause.releaseTold = !this.holdsPause(pause.id);
        const told = this.toldCalls > toldBefore;
        if (told) this.out.evaluations.push(this.now);
        this.log(`silence ${pause.id} expired${told ? '' : ' (object not told)'}`);
      },
    });
  }

  /** When the platform runs the alarm the object set, under this segment's alarm fault. */
  private alarmDue(mode: AlarmMode): number | null {
    if (this.alarmAt === null || this.alarmAt === this.lostAlarm) return null;
    return mode === 'delayed' ? this.alarmAt + ALARM_DELAY_MS : this.alarmAt;
  }

  private async fireAlarm(mode: AlarmMode, due: number): Promise<void> {
    if (mode === 'lost') {
      this.lostAlarm = this.alarmAt;
      this.log(`alarm due ${due} lost`);
      return;
    }
    this.out.evaluations.push(this.now);
    for (let i = 0; i < (mode === 'twice' ? 2 : 1); i++) {
      await this.call('alarm', async (o, state) => {
        await state.storage.deleteAlarm();
        await o.alarm();
      });
    }
    this.log(`alarm runs${mode === 'twice' ? ' twice' : ''} at ${due}${this.silenceNote()}`);
  }

  /** The silence window the object holds, for the trace of a replayed seed. */
  private silenceNote(): string {
    if (this.handle === null || !this.verbose) return '';
    const w = liveInTables(this.handle.state.storage.sql)?.silence?.window;
    return w === null || w === undefined
      ? ''
      : ` silence window ${w.cause} from +${((w.startedAt - this.start) / 1000).toFixed(1)}s${w.paged ? ' paged' : ''}${w.suppressedBy === null ? '' : ` (${w.suppressedBy})`}`;
  }

  private newBoot(): void {
    this.bootNo++;
    this.boot = `${this.agentId}-b${this.bootNo}`;
    this.seq = 0;
    this.stopped = false;
  }

  private signals(s: Segment): Signal[] {
    const stale = s.freshness === 'stale' || (s.freshness === 'flap' && this.seq % 2 === 0);
    // A stale pipeline's age grows as the schedule goes on, so a window's peak grows with each heartbeat
    // (a batch replayed late must not lower it in D1: d1-matches). No draw: older seeds keep their schedules.
    const age = stale ? 120 + Math.floor((this.now - this.start) / 1000) : 5;
    const out: Signal[] = [{ name: 'metrics.freshness', kind: 'freshness', value: age, unit: 's', error: null }];
    // Six new names a heartbeat, never two alike in one (the route refuses that: seed 23655 drew the same number twice).
    if (s.agent === 'churn')
      for (let i = 0; i < 6; i++)
        out.push({ name: `churn.n${i}.${Math.floor(this.rng() * 1e6)}`, kind: 'freshness', value: 1, unit: 's', error: null });
    return out;
  }

  private async beat(s: Segment, stopping: boolean): Promise<void> {
    this.seq++;
    const skew = s.agent === 'skewed' ? 600_000 : 0;
    const body: Heartbeat = {
      v: 1,
      seq: this.seq,
      boot: this.boot,
      sent_at: new Date(this.now + skew).toISOString(),
      interval_s: this.schedule.intervalS,
      grace_s: this.schedule.intervalS,
      signals: this.signals(s),
      ...(stopping ? { stopping: true } : {}),
    } as Heartbeat;
    const id = `${this.boot}:${this.seq}`;
    if (s.agent === 'lossy' && this.rng() < 0.5) return this.log(`heartbeat ${this.seq} lost on the way`);
    if (this.frozenUntil !== null && this.now <= this.frozenUntil) {
      // Sent into a frozen Worker: it waits in its queue, behind what came before it.
      this.pending.push({ at: Math.max(this.now, this.pending.at(-1)?.at ?? 0), body, id, order: this.order++, sent: this.now });
      return;
    }
    if (s.agent === 'reorder' && this.seq % 2 === 1) {
      this.pending.push({ at: this.now + this.schedule.intervalS * 1000 + 1, body, id, order: this.order++, sent: this.now });
      return;
    }
    if (s.agent === 'delayed') {
      const at = Math.max(this.now + Math.floor(this.rng() * 1.5 * this.schedule.intervalS * 1000), this.pending.at(-1)?.at ?? 0);
      this.pending.push({ at, body, id, order: this.order++, sent: this.now });
      return;
    }
    await this.deliver(body, id);
    if (s.agent === 'dup') await this.deliver(body, id);
  }

  private async deliver(body: Heartbeat, id: string, sent = this.now): Promise<void> {
    const fresh = body.signals.every((sig) => sig.value !== null && sig.value < 60);
    const skewed = Math.abs(Date.parse(body.sent_at) - this.now) > 30_000;
    const taken = {
      at: this.now,
      sent,
      clock: Date.parse(body.sent_at),
      boot: body.boot,
      seq: body.seq,
      stopping: body.stopping === true,
      fresh,
      skewed,
    };
    this.sinceAck.set(`${body.boot}#${body.seq}`, taken);
    const result = await this.call(`heartbeat ${body.boot}#${body.seq}`, (o) =>
      this.secret === null ? o.receiveHeartbeat(this.agentId, id, body) : this.viaRoute(this.secret, body, id),
    );
    const deadline =
      result?.status === 'accepted' ? ` (deadline +${((result.deadlineAt - this.start) / 1000).toFixed(1)}s)${this.silenceNote()}` : '';
    this.log(`heartbeat ${body.boot}#${body.seq}${body.stopping ? ' (stopping)' : ''}: ${result?.status ?? 'threw'}${deadline}`);
    if (result?.status === 'accepted') {
      this.out.evaluations.push(this.now);
      this.sinceAck.clear();
    }
    if (result?.status === 'accepted') this.out.accepted.push({ ...taken, deadlineAt: result.deadlineAt });
  }

  /** The operator adds the agent through the admin API (blindspot agent add): its key, shown once. */
  private async addAgent(): Promise<string> {
    const added = await this.admin('POST', `/agents/${this.agentId}`);
    const secret = (added?.key as { secret?: string } | undefined)?.secret;
    if (secret === undefined) throw new Error(`the admin API did not add agent ${this.agentId}`);
    this.log('agent added through the admin API; its heartbeats go through the route');
    return secret;
  }

  /**
   * A heartbeat as the agent sends it: signed, through the Worker's route, which checks it and hands
   * it to the object. The signature's timestamp is the real clock's (the route checks it against its
   * own); the object decides on the simulator's. Each answer is read back as the object's result.
   */
  private async viaRoute(secret: string, body: Heartbeat, id: string): Promise<IngestResult> {
    if (this.keysAway) forgetSecrets(this.agentId);
    const text = JSON.stringify(body);
    const ts = Math.floor(Date.now() / 1000);
    const res = await exports.default.fetch(
      new Request(`https://blindspot.sim/v1/agents/${this.agentId}/heartbeats`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': await sign([secret], id, ts, text),
        },
        body: text,
      }),
    );
    const answer = (await res.json()) as { deadline_at?: string; error?: { code: string; message: string } };
    // keysKept is not in the HTTP answer, and nothing here reads it.
    if (res.status === 202) return { status: 'accepted', deadlineAt: Date.parse(answer.deadline_at ?? ''), keysKept: true };
    const code = answer.error?.code;
    if (res.status === 409 && code === 'replay') return { status: 'replay' };
    if (res.status === 409 && code === 'out_of_order') return { status: 'out_of_order', lastSeq: -1 };
    if (res.status === 422 && code === 'too_many_monitors')
      return { status: 'over_limit', limit: 'route', message: answer.error?.message ?? '' };
    if (res.status === 401 && code === 'unknown_agent') return { status: 'retired' };
    throw new Error(`the heartbeat route answered ${res.status}: ${JSON.stringify(answer)}`);
  }

  /** Resets the object (memory and work in flight), then checks that what it acknowledged is stored. */
  private async reset(): Promise<void> {
    const t0 = performance.now();
    if (this.trap === null) this.log('object reset');
    this.trap = null;
    await abortAllDurableObjects();
    this.d1.forget();
    this.watchdogD1.forget();
    // A stub to a reset object stays broken, as on the platform: callers get a new one.
    this.stub = env.AGENT.get(env.AGENT.idFromName(this.agentId));

    const last = this.out.accepted.at(-1);
    const live = await runInDurableObject(this.stub, (_o, state) => liveInTables(state.storage.sql));
    // A heartbeat stored but not answered (the reset came while it awaited): the object took it.
    const unanswered = this.sinceAck.get(`${live?.boot}#${live?.seq}`);
    if (unanswered !== undefined && live != null) {
      this.out.accepted.push({ ...unanswered, deadlineAt: live.deadlineAt });
      this.sinceAck.clear();
      this.log(`heartbeat ${unanswered.boot}#${unanswered.seq} was stored before the reset, unanswered`);
    } else if (last !== undefined && (live?.boot !== last.boot || (live?.seq ?? 0) < last.seq)) {
      this.out.lostAcks.push(`after a reset the object holds ${live?.boot}#${live?.seq}, but it acknowledged ${last.boot}#${last.seq}`);
    }
    spent('reset', t0);
  }

  /** The end: D1's record of this agent, what is still open, and what replication set aside or dropped. */
  private async finish(): Promise<void> {
    await this.settle();
    const t0 = performance.now();
    const health = await this.call('health', (o) => o.health());
    this.out.setAside = health?.replication.setAside ?? 0;
    this.out.dropped = health?.replication.dropped ?? 0;
    this.out.queued = health?.replication.length ?? 0;
    this.out.oldestQueuedAt = health?.replication.oldestAt ?? null;
    const live = this.handle === null ? null : liveInTables(this.handle.state.storage.sql);
    this.out.openAtEnd = [live?.silence?.window?.id, ...Object.values(live?.monitors ?? {}).map((m) => m.window?.id)].filter(
      (x): x is string => x !== undefined && x !== null,
    );
    const { results } = await env.DB.prepare(
      'SELECT id, monitor, cause, started_at, ended_at, suppressed_by, level, peak_value FROM windows WHERE agent_id = ? ORDER BY started_at',
    )
      .bind(this.agentId)
      .all<D1Window>();
    this.out.d1Windows = results;
    this.out.agentRows = {
      object: live === null || live === undefined ? null : { boot: live.boot, state: live.state },
      d1: await env.DB.prepare('SELECT boot, state FROM agents WHERE id = ?').bind(this.agentId).first<{ boot: string; state: string }>(),
    };
    const byId = (rows: { id: string; state: string }[]) => Object.fromEntries(rows.map((r) => [r.id, r.state]));
    this.out.outboxStates = {
      object:
        this.handle === null
          ? {}
          : byId(this.handle.state.storage.sql.exec<{ id: string; state: string }>('SELECT id, state FROM outbox').toArray()),
      d1: byId(
        (await env.DB.prepare('SELECT id, state FROM outbox WHERE agent_id = ?').bind(this.agentId).all<{ id: string; state: string }>())
          .results,
      ),
    };
    await runInDurableObject(this.watchdog, async (_w: Watchdog, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
    // Each schedule's clock runs over the same hours: what an operator made for this agent goes, and so
    // do the agent's row and public copy (the admin API tells every agent D1 or the copies know of).
    // The rest of its history goes too, once read: the next schedule starts from a D1 as small as this one did.
    const id = this.agentId;
    await env.DB.batch([
      env.DB.prepare('DELETE FROM maintenances WHERE agents = ?').bind(JSON.stringify([id])),
      env.DB.prepare('DELETE FROM agents WHERE id = ?').bind(id),
      env.DB.prepare('DELETE FROM delivery_attempts WHERE notification_id IN (SELECT id FROM outbox WHERE agent_id = ?)').bind(id),
      ...['windows', 'outbox', 'agent_events', 'agent_days'].map((table) =>
        env.DB.prepare(`DELETE FROM ${table} WHERE agent_id = ?`).bind(id),
      ),
    ]);
    await pruneAllCopies(env, this.now + 86_400_000);
    if (this.secret !== null) await credentials(env).revokeAgentKeys(id);
    spent('finish', t0);
  }
}
