// Link outages, reconstructed from backfilled heartbeats: the agent kept running and spooled what it
// could not send, so the time they span is time the watchdog could not see, not time the monitoring
// was blind. What the monitoring itself looked like then is found by replaying them through the same
// engine that judges live heartbeats. Pure.
import type { WatchConfig } from '../../config/resolve.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import type { LiveState } from './agent-state.ts';
import type { BlindWindow, SeqAnchors } from './blind-window.ts';
import { evaluateHeartbeat } from './evaluate.ts';
import { emptyRollup } from './rollup.ts';

export interface BackfilledHeartbeat {
  agentId: string;
  boot: string;
  seq: number;
  sentAt: number;
  intervalS: number;
  signals: readonly Signal[];
}

export interface LinkOutage {
  agentId: string;
  /** The first heartbeat the agent had to spool. */
  start: number;
  /** One interval after the last one: when the next, live, heartbeat was due. */
  end: number;
  heartbeats: number;
  /** Windows the replayed heartbeats open: the monitoring's own blindness while the link was down. */
  windows: BlindWindow[];
}

/** Consecutive spooled heartbeats further apart than this many intervals belong to different outages. */
const SPLIT_INTERVALS = 3;

export function linkOutages(rows: readonly BackfilledHeartbeat[], config: WatchConfig): LinkOutage[] {
  return runsOf(rows).map((run) => outageOf(run[0]!.agentId, run, config));
}

/** Only where the outages are, without replaying what the monitoring looked like in them. */
export function outageSpans(rows: readonly BackfilledHeartbeat[]): { agentId: string; start: number; end: number }[] {
  return runsOf(rows).map((run) => ({ agentId: run[0]!.agentId, start: run[0]!.sentAt, end: endOf(run) }));
}

/**
 * Whether a backfilled heartbeat continues the sequence heard around a silence: the same process run
 * as the last heartbeat before it with a later seq (and, if that run was heard again after, an
 * earlier seq than that), or a run that began during the silence and was heard after it, with an
 * earlier seq than the one heard. Anything else (an invented boot, a seq from before the silence or
 * past the agent's return) does not show that the agent ran on behind a dead link.
 */
export function continuesSequence(anchors: SeqAnchors, hb: Pick<BackfilledHeartbeat, 'boot' | 'seq'>): boolean {
  const { before, after } = anchors;
  if (before === null) return false;
  if (hb.boot === before.boot) return hb.seq > before.seq && (after === null || after.boot !== before.boot || hb.seq < after.seq);
  return after !== null && after.boot !== before.boot && hb.boot === after.boot && hb.seq < after.seq;
}

function runsOf(rows: readonly BackfilledHeartbeat[]): BackfilledHeartbeat[][] {
  const byAgent = new Map<string, BackfilledHeartbeat[]>();
  for (const r of rows) {
    const list = byAgent.get(r.agentId);
    if (list === undefined) byAgent.set(r.agentId, [r]);
    else list.push(r);
  }
  const runs: BackfilledHeartbeat[][] = [];
  for (const list of byAgent.values()) {
    const sorted = [...list].sort((a, b) => a.sentAt - b.sentAt || a.seq - b.seq);
    let run: BackfilledHeartbeat[] = [];
    for (const hb of sorted) {
      const last = run[run.length - 1];
      if (last !== undefined && hb.sentAt - last.sentAt > SPLIT_INTERVALS * last.intervalS * 1000) {
        runs.push(run);
        run = [];
      }
      run.push(hb);
    }
    if (run.length > 0) runs.push(run);
  }
  return runs.sort((a, b) => a[0]!.sentAt - b[0]!.sentAt || a[0]!.agentId.localeCompare(b[0]!.agentId));
}

const endOf = (run: readonly BackfilledHeartbeat[]) => {
  const last = run[run.length - 1]!;
  return last.sentAt + Math.round(last.intervalS * 1000);
};

function outageOf(agentId: string, run: readonly BackfilledHeartbeat[], config: WatchConfig): LinkOutage {
  const end = endOf(run);
  return { agentId, start: run[0]!.sentAt, end, heartbeats: run.length, windows: replay(agentId, run, config, end) };
}

/**
 * Feeds the run to the engine in order, at the times the agent measured them. Holds complete at the
 * next observation (no alarms are played, so no silence is invented between spooled heartbeats);
 * start and end times do not depend on that. A window still open when the run ends closes with it.
 */
function replay(agentId: string, run: readonly BackfilledHeartbeat[], config: WatchConfig, end: number): BlindWindow[] {
  const subject = { kind: 'agent' as const, id: agentId, component: config.defaults.component };
  const windows = new Map<string, BlindWindow>();
  let live: LiveState | null = null;
  for (const hb of run) {
    const facts = {
      boot: hb.boot,
      seq: hb.seq,
      intervalS: hb.intervalS,
      graceS: undefined,
      sentAt: hb.sentAt,
      stopping: false,
      signals: hb.signals,
    };
    const t = evaluateHeartbeat(live, subject, facts, config, hb.sentAt);
    // The replay needs no rollups; left to grow, copying them would make it quadratic in the run.
    live = { ...t.next, rollup: emptyRollup(), accountedAt: hb.sentAt };
    for (const c of t.changes) if ('window' in c && c.window.monitor !== 'agent') windows.set(c.window.id, c.window);
  }
  return [...windows.values()].map((w) => ({ ...w, id: `${w.id}:backfill`, endedAt: w.endedAt ?? end, paged: false }));
}
