// A soak from outside: simulated agents speaking the real protocol to the Worker under wrangler dev
// (real workerd, real local D1, the one-minute sweep ticked as the cron would), with silences, loss,
// restarts, goodbyes and stale measurements of their own, while the Worker is frozen (SIGSTOP) or
// killed and started again, D1 is write-locked and the pager answers 503, each at random; an
// operator silences agents through the admin API; readers poll the public surfaces. Then it checks
// what a real on-call would see at the pager: every silence past a deadline lies under a window that
// was paged (or, noticed late, told in the Watchdog's summary), unless an operator's silence meant
// it; nothing that began under a silence the objects were told of pages before it ends; no window
// for a stretch the agent was on time; each stale stretch paged once and resolved; no event told
// twice (by its webhook-id); every window closed once its agent was back. And what a customer read
// meanwhile: each agent is a status-page component of its own, fed by the freshness it measures. No
// answer may call one operational unless a heartbeat measured fresh was sent by then and its
// deadline had not passed when the read began; nor once a heartbeat measured stale (or a goodbye)
// had been taken, with nothing fresh sent since, for longer than the refresh period's 2 s and half
// a second. Targets 127.0.0.1 only, runs for --minutes, and stops every process it started.
//
//   npm run soak -- [--minutes 5] [--agents 30] [--seed N]
//
// A seed fixes the draws, not the run: agents and faults take them in the order real time brings.
// Exit 0 when every check holds; 1 with the problems listed. The run's record (heartbeats sent and
// answered, events received, faults) is written to test-artifacts/soak-<seed>.json.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../protocol/signature.ts';
import { startTestWorker } from '../test/support/e2e-worker.ts';
import { fleetOf, hookedWorkerVars, postSigned, signedHeartbeat } from '../test/support/fleet.ts';
import { startRecorder } from '../test/support/http-recorder.ts';
import { d1File } from '../test/support/local-d1.ts';

const USAGE = 'usage: npm run soak -- [--minutes 5] [--agents 30] [--seed N] | --check <record>';
const { values } = (() => {
  try {
    return parseArgs({
      options: {
        minutes: { type: 'string', default: '5' },
        agents: { type: 'string', default: '30' },
        seed: { type: 'string' },
        check: { type: 'string' },
      },
    });
  } catch (e) {
    console.error(`soak: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    process.exit(2);
  }
})();
const MINUTES = Number(values.minutes);
const AGENTS = Number(values.agents);
const SEED = values.seed === undefined ? Math.floor(Math.random() * 1e6) : Number(values.seed);
if (!(MINUTES > 0 && MINUTES <= 60) || !(AGENTS >= 1 && AGENTS <= 200) || !Number.isInteger(SEED)) {
  console.error('soak: --minutes takes more than 0 and at most 60, --agents 1 to 200, --seed an integer');
  process.exit(2);
}
const INTERVAL_S = 2;
/** Grace 4 s at a 2 s interval: one heartbeat lost alone never makes a silence, two in a row may. */
const GRACE_S = 4;
/** Longest a public answer may lag what the Worker was told: one refresh period (2 s), and half a second. */
const LAG_MS = 2500;

// --check <record>: the checks again, on a run's record (after a change to them, or for an autopsy).
if (values.check !== undefined) {
  let record: { t0: number; sent: Sent[]; events: Event[]; faults: Fault[]; claims?: Claim[]; pauses?: Pause[] };
  try {
    record = JSON.parse(readFileSync(values.check, 'utf8'));
    if (!Number.isFinite(record.t0) || ![record.sent, record.events, record.faults].every(Array.isArray))
      throw new Error('not a soak record');
    // Older records have no claims or pauses; a record that has them has them as lists.
    for (const field of ['claims', 'pauses'] as const)
      if (record[field] !== undefined && !Array.isArray(record[field])) throw new Error(`not a soak record: ${field} is not a list`);
  } catch (e) {
    console.error(
      `soak: --check ${values.check}: ${e instanceof Error ? e.message : String(e)}; give the test-artifacts/soak-<seed>.json a run wrote`,
    );
    process.exit(2);
  }
  const problems = [
    ...check(record.sent, record.events, record.faults, record.t0, record.pauses ?? []),
    ...checkClaims(record.sent, record.claims ?? [], record.t0),
  ];
  console.log(
    problems.length === 0 ? `soak: ${values.check} passes` : `soak: ${values.check} fails:\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}

let state = SEED;
const random = () => {
  state = (state * 1103515245 + 12345) & 0x7fffffff;
  return state / 0x7fffffff;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sent {
  agent: string;
  seq: number;
  boot: string;
  start: number;
  end: number;
  status: number | null;
  deadlineAt: number | null;
  stopping: boolean;
  /** It measured metrics.freshness fresh (5 s old); otherwise stale (900 s, past the blind line). */
  fresh: boolean;
}
interface Event {
  id: string;
  type: string;
  window: string;
  agent: string;
  cause: string;
  startedAt: number;
  endedAt: number | null;
  at: number;
}
/** A read that called an agent's component operational: the request began at `from`, answered at `to`. */
interface Claim {
  surface: string;
  agent: string;
  from: number;
  to: number;
}
/**
 * An operator's silence over `agents`: asked for at `from`, made (201) at `madeAt`; its end asked for
 * at `endFrom` (its ends_at, or a DELETE) and certain by `endTo`. `sure`: every answer came, and told
 * every agent's object (otherwise an object may learn of it only at its own re-read, within 5 minutes).
 */
interface Pause {
  id: string | null;
  agents: string[];
  from: number;
  madeAt: number;
  endFrom: number;
  endTo: number;
  sure: boolean;
}
interface Fault {
  kind: 'freeze' | 'restart' | 'd1_locked' | 'pager_503';
  from: number;
  to: number;
}

const secret = generateSecret();
const adminToken = randomBytes(32).toString('hex');
const hookSecret = generateSecret();
const agents = fleetOf(AGENTS, 'soak');
const pager = await startRecorder();
// Each agent a component of its own, fed by its freshness monitor; agent silence feeds `fleet`.
const config = {
  components: [{ id: 'fleet', name: 'Fleet' }, ...agents.map((a) => ({ id: a, name: a }))],
  defaults: { component: 'fleet' },
  monitors: agents.map((a) => ({ id: `fresh-${a}`, signal: 'metrics.freshness', kind: 'freshness', agent: a, component: a })),
  notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 },
};
const worker = await startTestWorker('soak', {
  ...hookedWorkerVars(agents, secret, `${pager.url}/hook`, hookSecret),
  BLINDSPOT_CONFIG: JSON.stringify(config),
  // As deployed: readers share one gathering every 2 s, and answers are kept for their max-age.
  BLINDSPOT_PUBLIC_REFRESH_S: '2',
  BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
    soak: { sha256: createHash('sha256').update(adminToken).digest('hex'), scopes: ['read', 'write'] },
  }),
});
const t0 = Date.now();
const sent: Sent[] = [];
const faults: Fault[] = [];
let pagerDown = false;
const events: Event[] = [];
const claims: Claim[] = [];
const pauses: Pause[] = [];
/** The admin API's answers by status (0: none came). */
const adminAnswers = new Map<number, number>();
const reads = { answered: 0, failed: 0 };
const refused: string[] = [];
const hook = new Webhook(hookSecret);
// Each event is verified as it comes, as a real receiver does (its timestamp within 5 minutes).
pager.answer((r) => {
  if (pagerDown) return { status: 503, body: '{}' };
  type Told = { id: string; agent: string; cause: string; started_at: string; ended_at: string | null };
  let e: { type: string; data: { window?: Told; windows?: Told[] } };
  try {
    e = hook.verify(r.body, r.headers as Record<string, string>) as typeof e;
  } catch (err) {
    refused.push(`an event refused by the receiver: ${err instanceof Error ? err.message : String(err)}`);
    return { status: 401, body: '{}' };
  }
  // A window event names its window; a Watchdog summary lists the windows it noticed late.
  for (const w of e.data.window === undefined ? (e.data.windows ?? []) : [e.data.window])
    events.push({
      id: String(r.headers['webhook-id']),
      type: e.type,
      window: w.id,
      agent: w.agent,
      cause: w.cause,
      startedAt: Date.parse(w.started_at),
      endedAt: w.ended_at === null ? null : Date.parse(w.ended_at),
      at: r.at,
    });
  return { status: 204 };
});
console.log(
  `soak: seed ${SEED}, ${AGENTS} agents at a ${INTERVAL_S} s interval (grace ${GRACE_S} s), ${MINUTES} min, Worker at ${worker.url}`,
);

async function send(agent: string, boot: string, seq: number, stopping: boolean, fresh = true): Promise<void> {
  const start = Date.now();
  const signals = [{ name: 'metrics.freshness', kind: 'freshness', value: fresh ? 5 : 900, error: null }];
  const req = signedHeartbeat(agent, secret, { seq, boot, intervalS: INTERVAL_S, graceS: GRACE_S, stopping, signals });
  // As an agent does: the same heartbeat again after a failure, a few times, then the next one.
  for (let tries = 0; tries < 4; tries++) {
    const result = await postSigned(worker.url, req, 8000).catch(() => null);
    if (result !== null && (result.status === 202 || result.status === 409)) {
      sent.push({ agent, seq, boot, start, end: Date.now(), status: result.status, deadlineAt: result.deadlineAt, stopping, fresh });
      return;
    }
    await sleep(300 + random() * 400);
  }
  sent.push({ agent, seq, boot, start, end: Date.now(), status: null, deadlineAt: null, stopping, fresh });
}

/** One agent: on time with one heartbeat in ten lost, and two things of its own at random moments. */
async function runAgent(agent: string, until: number): Promise<void> {
  let boot = `b${Math.floor(random() * 1e9)}`;
  let seq = 0;
  // Two apiece: the default flapping rule (6 changes in 30 min) holds a window open for 10 minutes.
  const moments = [0, 1].map(() => t0 + 10_000 + random() * (until - t0 - 40_000)).sort((a, b) => a - b);
  // And one stretch of 4 to 12 s when what it measures is stale.
  const staleFrom = t0 + 10_000 + random() * (until - t0 - 40_000);
  const staleUntil = staleFrom + 4000 + random() * 8000;
  while (Date.now() < until) {
    if (moments.length > 0 && Date.now() >= (moments[0] as number)) {
      moments.shift();
      const r = random();
      if (r < 0.45) await sleep(8000 + random() * 10_000);
      else if (r < 0.75) await sleep(GRACE_S * 1000 + random() * 3000);
      else if (r < 0.87) {
        boot = `b${Math.floor(random() * 1e9)}`;
        seq = 0;
      } else {
        await send(agent, boot, ++seq, true);
        await sleep(3000 + random() * 8000);
        boot = `b${Math.floor(random() * 1e9)}`;
        seq = 0;
        continue;
      }
    }
    if (random() >= 0.1) await send(agent, boot, ++seq, false, Date.now() < staleFrom || Date.now() >= staleUntil);
    await sleep(INTERVAL_S * 1000 * (0.7 + random() * 0.5));
  }
  // Back on time for long enough to close any window, then a goodbye.
  for (let i = 0; i < 6; i++) {
    await send(agent, boot, ++seq, false);
    await sleep(1500);
  }
  await send(agent, boot, ++seq, true);
}

/** A customer's reader: the page, components.json, summary.json or one agent's badge, every 100 to 300 ms. */
async function runReader(until: number): Promise<void> {
  while (Date.now() < until) {
    const r = random();
    const agent = agents[Math.floor(random() * agents.length)] as string;
    const path = r < 0.3 ? '/api/v2/components.json' : r < 0.5 ? '/api/v2/summary.json' : r < 0.7 ? '/' : `/badge/${agent}.json`;
    const from = Date.now();
    try {
      const res = await fetch(`${worker.url}${path}`, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      const to = Date.now();
      if (res.status !== 200) throw new Error(`${res.status}`);
      reads.answered++;
      const claim = (id: string, status: string | undefined) => {
        if (status === 'operational' && id !== 'fleet')
          claims.push({ surface: path === '/' ? 'the page' : path.startsWith('/badge/') ? 'its badge' : path, agent: id, from, to });
      };
      if (path === '/')
        for (const m of text.matchAll(/<li id="component-([^"]+)">[\s\S]*?<span class="state ([a-z_]+)">/g)) claim(m[1] as string, m[2]);
      else if (path.startsWith('/badge/')) claim(agent, (JSON.parse(text) as { message: string }).message);
      else for (const c of (JSON.parse(text) as { components: { id: string; status: string }[] }).components) claim(c.id, c.status);
    } catch {
      reads.failed++; // the Worker frozen or restarting: a reader sees nothing, which claims nothing
    }
    await sleep(100 + random() * 200);
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  let answer = { status: 0, json: {} as Record<string, unknown> };
  try {
    const res = await fetch(`${worker.url}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    answer = { status: res.status, json: (await res.json()) as Record<string, unknown> };
  } catch {
    // No answer (the Worker frozen or restarting): whether it was done is not known.
  }
  adminAnswers.set(answer.status, (adminAnswers.get(answer.status) ?? 0) + 1);
  return answer;
}

const toldAll = (json: Record<string, unknown>) => Array.isArray(json.agents_not_told) && json.agents_not_told.length === 0;

/** An operator: every 10 to 25 s, a silence over four agents for 15 to 40 s, half of them ended early. */
async function runOperator(until: number): Promise<void> {
  for (;;) {
    await sleep(10_000 + random() * 15_000);
    if (Date.now() >= until - 45_000) return;
    const chosen = [...new Set([0, 1, 2, 3].map(() => agents[Math.floor(random() * agents.length)] as string))];
    const from = Date.now();
    const endsAt = from + 15_000 + random() * 25_000;
    const early = random() < 0.5 ? 5000 + random() * 10_000 : null;
    const made = await admin('POST', '/silences', { reason: 'soak', ends_at: new Date(endsAt).toISOString(), agents: chosen });
    const id = ((made.json.silence as { id?: string } | undefined)?.id as string | undefined) ?? null;
    // Refused (D1 locked: a 503): nothing was made. No answer: it may have been, until its ends_at.
    if (made.status !== 201 && made.status !== 0) continue;
    const pause: Pause = { id, agents: chosen, from, madeAt: Date.now(), endFrom: endsAt, endTo: endsAt, sure: toldAll(made.json) };
    pauses.push(pause);
    if (early === null || id === null) continue;
    await sleep(early);
    const asked = Date.now();
    const ended = await admin('DELETE', `/silences/${id}`);
    if (ended.status === 200) Object.assign(pause, { endFrom: asked, endTo: Date.now(), sure: pause.sure && toldAll(ended.json) });
    else if (ended.status === 0) Object.assign(pause, { endFrom: asked, sure: false });
  }
}

/** The one-minute sweep, ticked as Cloudflare's cron would (wrangler dev runs none), as npm start does. */
const sweep = () => fetch(`${worker.url}/__scheduled?cron=*+*+*+*+*`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
async function runSweeps(until: number): Promise<void> {
  while (Date.now() < until) {
    void sweep(); // lost while the Worker is down, as a cron run on a dead instance is
    await sleep(60_000);
  }
}

async function runFaults(until: number): Promise<void> {
  const db = new DatabaseSync(d1File(worker.persistTo));
  db.exec('PRAGMA busy_timeout = 10000');
  try {
    for (;;) {
      await sleep(8000 + random() * 12_000);
      if (Date.now() >= until) return;
      const r = random();
      const from = Date.now();
      if (r < 0.4) {
        await worker.freeze(300 + random() * 3500);
        faults.push({ kind: 'freeze', from, to: Date.now() });
      } else if (r < 0.55) {
        // Killed (SIGKILL, wrangler and workerd), then started again on the same state.
        await worker.crash();
        await sleep(1000 + random() * 5000);
        await worker.resume();
        faults.push({ kind: 'restart', from, to: Date.now() });
      } else if (r < 0.8) {
        db.exec('BEGIN EXCLUSIVE');
        await sleep(4000 + random() * 12_000);
        db.exec('ROLLBACK');
        faults.push({ kind: 'd1_locked', from, to: Date.now() });
      } else {
        pagerDown = true;
        await sleep(3000 + random() * 10_000);
        pagerDown = false;
        faults.push({ kind: 'pager_503', from, to: Date.now() });
      }
    }
  } finally {
    db.close();
  }
}

try {
  const until = t0 + MINUTES * 60_000;
  await Promise.all([
    ...agents.map((a) => runAgent(a, until)),
    runFaults(until),
    runOperator(until),
    runSweeps(until),
    ...[0, 1, 2].map(() => runReader(until + 15_000)),
  ]);
  // One more sweep for what it owes (a summary of what was noticed late), then time for the last
  // pages and resolves, and the pager's retries.
  await sweep();
  await sleep(30_000);
} finally {
  await worker.stop();
  await pager.close();
}

const problems = [...refused, ...check(sent, events, faults, t0, pauses), ...checkClaims(sent, claims, t0)];
const at = since(t0);
mkdirSync('test-artifacts', { recursive: true });
writeFileSync(`test-artifacts/soak-${SEED}.json`, JSON.stringify({ seed: SEED, t0, sent, events, faults, claims, pauses, problems }));
const silences = sent.filter((s, i) => {
  const next = sent.slice(i + 1).find((n) => n.agent === s.agent);
  return s.deadlineAt !== null && !s.stopping && next !== undefined && next.start > s.deadlineAt + 1500;
}).length;
console.log(
  `soak: ${sent.length} heartbeats (${sent.filter((s) => s.status === null).length} never answered), ${silences} silences past a deadline, ` +
    `${new Set(events.map((e) => e.window)).size} windows paged, ${events.length} events taken; ` +
    `${reads.answered} public reads (${reads.failed} failed), ${claims.length} operational claims; ` +
    `${pauses.length} operator's silences (admin answers ${[...adminAnswers].map(([status, n]) => `${status}: ${n}`).join(', ')}); ` +
    `faults: ${faults.map((f) => `${f.kind} ${at(f.from)}..${at(f.to)}`).join(', ')}`,
);
if (problems.length > 0) {
  console.log(`soak: seed ${SEED} FAILED:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`soak: seed ${SEED} passed`);

/** A time as the seconds since the run began: "+12.3 s". */
function since(t0: number): (t: number) => string {
  return (t) => `+${((t - t0) / 1000).toFixed(1)} s`;
}

function check(sent: readonly Sent[], events: readonly Event[], faults: readonly Fault[], t0: number, pauses: readonly Pause[]): string[] {
  const at = since(t0);
  const out: string[] = [];
  const byWindow = new Map<string, Event[]>();
  for (const e of events) byWindow.set(e.window, [...(byWindow.get(e.window) ?? []), e]);
  for (const [id, evs] of byWindow)
    for (const type of ['window.opened', 'window.closed']) {
      const told = new Set(evs.filter((e) => e.type === type).map((e) => e.id));
      if (told.size > 1) out.push(`${id}: ${type} told ${told.size} times (distinct webhook-ids)`);
    }
  const frozenNear = (a: number, b: number) =>
    faults.some((f) => (f.kind === 'freeze' || f.kind === 'restart') && f.from < b + 500 && f.to > a - 500);
  for (const agent of new Set(sent.map((s) => s.agent))) {
    const mine = sent.filter((s) => s.agent === agent).sort((a, b) => a.start - b.start);
    const over = pauses.filter((p) => p.agents.includes(agent));
    // Silences noticed late (the watchdog itself down at the deadline) and told in a Watchdog summary.
    const summarized = events.filter((e) => e.type === 'watchdog.summary' && e.agent === agent && e.cause === 'agent_silent');
    // A stretch an operator's silence meant: it ended under the silence (before its end was certain)
    // and the watchdog had no moment to page it before: it began once the silence was asked for, or
    // the Worker was down or frozen from its deadline until then (the first look after a stall waits
    // 5 s for heartbeats). 3 s either side: which side of a moment a heartbeat fell is not known here.
    // A silence the objects may not have been told of counts until their re-read, 5 minutes on.
    const downUntil = (from: number, until: number) =>
      faults.some((f) => (f.kind === 'freeze' || f.kind === 'restart') && f.from <= from + 250 && f.to + 5500 >= until);
    const meant = (from: number, to: number) =>
      over.some((p) =>
        p.sure
          ? to <= p.endTo + 3000 && to >= p.madeAt - 3000 && (from >= p.from - 3000 || downUntil(from, p.madeAt))
          : from <= p.endTo + 300_000 && to >= p.from - 3000,
      );
    const windows = [...byWindow.values()]
      .map((evs) => ({ first: evs.find((e) => e.type === 'window.opened'), closed: evs.find((e) => e.type === 'window.closed') }))
      .filter((w): w is { first: Event; closed: Event | undefined } => w.first?.agent === agent && w.first.cause === 'agent_silent')
      .map(({ first, closed }) => ({ id: first.window, from: first.startedAt, to: closed?.endedAt ?? Number.POSITIVE_INFINITY, closed }));
    // Misses as the Worker may have seen them: a heartbeat it answered after the deadline of the one it
    // took before (the tries it never answered, during a restart, may or may not have been taken).
    const taken = mine.filter((s) => s.status !== null);
    const misses = taken.filter((s, i) => {
      const before = taken[i - 1];
      return before?.deadlineAt != null && !before.stopping && s.end > before.deadlineAt;
    }).length;
    for (let i = 0; i + 1 < mine.length; i++) {
      const prev = mine[i] as Sent;
      const next = mine[i + 1] as Sent;
      if (prev.status !== 202 || prev.deadlineAt === null || prev.stopping) continue;
      // Silent for more than 1.5 s past the deadline: some window must span it, paged, or told in a
      // summary (noticed late: the watchdog itself was down, or held up, at the deadline).
      const deadline = prev.deadlineAt;
      const spans = (from: number, to: number | null) => from <= next.start && (to ?? Number.POSITIVE_INFINITY) >= deadline;
      if (
        next.start > deadline + 1500 &&
        !meant(deadline, next.start) &&
        !windows.some((w) => spans(w.from, w.to)) &&
        !summarized.some((e) => spans(e.startedAt, e.endedAt))
      )
        out.push(
          `${agent}: silent from the deadline ${at(deadline)} until ${at(next.start)}, and no window over it paged or told in a summary`,
        );
    }
    for (const w of windows) {
      // A silence window starts when the missing heartbeat was due: the deadline less the grace.
      const i = mine.findIndex((s) => s.deadlineAt !== null && Math.abs(s.deadlineAt - GRACE_S * 1000 - w.from) < 50);
      const deadline = mine[i]?.deadlineAt ?? null;
      const next = mine[i + 1];
      if (deadline === null) out.push(`${w.id}: starts ${at(w.from)}, at no deadline the Worker gave`);
      else if (next !== undefined && next.status !== null && next.start < deadline - 300 && !frozenNear(deadline, next.end))
        out.push(`${w.id}: paged, though the next heartbeat was sent ${at(next.start)}, before the deadline ${at(deadline)}`);
      // Three misses or more (six changes) can make the silence flap, held open for 10 minutes: not checked then.
      if (w.closed === undefined && misses < 3) out.push(`${w.id}: paged, never resolved, though ${agent} came back`);
    }
    // Nothing that began under an operator's silence its objects were told of pages before it ends.
    for (const evs of byWindow.values()) {
      const opened = evs.find((e) => e.type === 'window.opened');
      if (opened === undefined || opened.agent !== agent) continue;
      // A silence window begins to count at its deadline, the rest at their first bad observation.
      const began = opened.cause === 'agent_silent' ? opened.startedAt + GRACE_S * 1000 : opened.startedAt;
      const p = over.find((p) => p.sure && began > p.madeAt + 1000 && opened.at < p.endFrom - 1000 && began < p.endFrom);
      if (p !== undefined)
        out.push(
          `${opened.window}: began ${at(began)} under an operator's silence (made ${at(p.madeAt)}, ended ${at(p.endFrom)}), and was paged ${at(opened.at)}`,
        );
    }
    out.push(...checkStale(agent, mine, [...byWindow.values()], over, at));
  }
  return out;
}

/**
 * The freshness monitor's pages: a stretch of stale heartbeats, two or more taken (its `for`), is
 * paged as `stale` unless an operator's silence came near it, and resolved once a fresh heartbeat
 * was taken 90 s after it with nothing stale between (its `recover_for`: 3 heartbeats and 60 s); no `stale`
 * window is paged that no stale heartbeat began.
 */
function checkStale(agent: string, mine: readonly Sent[], windows: readonly Event[][], over: readonly Pause[], at: (t: number) => string) {
  const out: string[] = [];
  const paged = windows
    .map((evs) => ({ opened: evs.find((e) => e.type === 'window.opened'), closed: evs.find((e) => e.type === 'window.closed') }))
    .filter((w): w is { opened: Event; closed: Event | undefined } => w.opened?.agent === agent && w.opened.cause === 'stale');
  // Stretches: stale heartbeats in a row, broken by any fresh one (taken or not) or a goodbye.
  const stretches: Sent[][] = [];
  let run: Sent[] = [];
  for (const s of mine) {
    if (!s.fresh && !s.stopping) run.push(s);
    else if (run.length > 0) {
      stretches.push(run);
      run = [];
    }
  }
  if (run.length > 0) stretches.push(run);
  for (const stretch of stretches) {
    const taken = stretch.filter((s) => s.status === 202);
    if (taken.length < 2) continue;
    const from = (stretch[0] as Sent).start;
    const to = (stretch[stretch.length - 1] as Sent).end;
    if (over.some((p) => p.from < to + 3000 && p.endTo + (p.sure ? 3000 : 300_000) > from)) continue;
    const w = paged.find((p) => p.opened.startedAt >= from - 1000 && p.opened.startedAt <= to + 1000);
    if (w === undefined) {
      out.push(`${agent}: ${taken.length} stale heartbeats taken from ${at(from)} to ${at(to)}, and no stale window paged`);
      continue;
    }
    // Measured fresh, and taken, 90 s on with nothing stale and no goodbye between: the hold is over.
    const later = mine.filter((s) => s.start > to);
    const cut = later.findIndex((s) => !s.fresh || s.stopping);
    const last = (cut === -1 ? later : later.slice(0, cut)).filter((s) => s.status === 202).at(-1);
    if (w.closed === undefined && last !== undefined && last.start - to >= 90_000)
      out.push(`${w.opened.window}: paged, never resolved, though ${agent} measured fresh from ${at(to)} to ${at(last.start)}`);
  }
  for (const { opened } of paged)
    if (!mine.some((s) => !s.fresh && opened.startedAt >= s.start - 1000 && opened.startedAt <= s.end + 1000))
      out.push(`${opened.window}: a stale window paged from ${at(opened.startedAt)}, where ${agent} sent no stale heartbeat`);
  return out;
}

/** Promise 2 from outside: each operational claim stands on a fresh heartbeat within its deadline. */
function checkClaims(sent: readonly Sent[], claims: readonly Claim[], t0: number): string[] {
  const at = since(t0);
  const byAgent = new Map<string, Sent[]>();
  for (const s of sent) byAgent.set(s.agent, [...(byAgent.get(s.agent) ?? []), s]);
  const seen = new Map<string, { first: string; count: number }>();
  const problem = (key: string, text: string) => {
    const p = seen.get(key);
    if (p === undefined) seen.set(key, { first: text, count: 1 });
    else p.count++;
  };
  const proof = (s: Sent) => s.fresh && !s.stopping;
  // A heartbeat that was never answered may still have been taken: its deadline is at most its last
  // try's end plus interval and grace.
  const deadlineOf = (s: Sent) => s.deadlineAt ?? s.end + (INTERVAL_S + GRACE_S) * 1000;
  for (const c of claims) {
    const mine = byAgent.get(c.agent) ?? [];
    if (!mine.some((s) => proof(s) && s.start <= c.to && deadlineOf(s) >= c.from))
      problem(
        `${c.agent} ${c.surface} unbacked`,
        `${c.agent}: ${c.surface} said operational at ${at(c.from)}..${at(c.to)}, with no fresh heartbeat sent by then whose deadline reached it`,
      );
    const against = mine.find(
      (k) =>
        k.status === 202 && !proof(k) && k.end + LAG_MS <= c.from && !mine.some((s) => proof(s) && s.start > k.start && s.start <= c.to),
    );
    if (against !== undefined)
      problem(
        `${c.agent} ${c.surface} contradicted`,
        `${c.agent}: ${c.surface} said operational at ${at(c.from)}..${at(c.to)}, though ${against.stopping ? 'a goodbye' : 'a stale heartbeat'} (seq ${against.seq}) was taken at ${at(against.end)} and nothing fresh was sent since`,
      );
  }
  return [...seen.values()].map((p) => (p.count > 1 ? `${p.first} (and ${p.count - 1} more reads like it)` : p.first));
}
