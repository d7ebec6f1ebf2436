// Wiring: config → probes → heartbeat loop.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Signal } from '../protocol/heartbeat.ts';
import type { AgentConfig } from './config.ts';
import { buildHeartbeat, heartbeatId } from './heartbeat.ts';
import type { Logger } from './log.ts';
import { abortableSleep, runLoop } from './loop.ts';
import type { Probe } from './probes/probe.ts';
import { type Collected, collectAll, createProbes } from './probes/registry.ts';
import { createSender } from './transport/sender.ts';
import { Spool } from './transport/spool.ts';
import { WorkerClock } from './transport/worker-clock.ts';

export function newBoot(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

export function probesOf(config: AgentConfig, extra: readonly Probe[] = []): Probe[] {
  return [...createProbes(config.probes, config.agent_id), ...extra];
}

export async function collectHeartbeat(
  config: AgentConfig,
  boot: string,
  seq: number,
  probes = probesOf(config),
): Promise<{ body: string; collected: Collected }> {
  const collected = await collectAll(probes, config.labels);
  return {
    collected,
    body: buildHeartbeat({ seq, boot, intervalS: config.interval_s, graceS: config.grace_s, signals: collected.signals, now: new Date() }),
  };
}

export interface RunOptions {
  /** Probes built in code rather than configured, e.g. the in-process OpenTelemetry hook's. */
  probes?: readonly Probe[];
}

export async function runAgent(config: AgentConfig, log: Logger, signal: AbortSignal, options: RunOptions = {}): Promise<void> {
  const boot = newBoot();
  const probes = probesOf(config, options.probes);
  // The Worker's clock, learned from its answers: a skewed agent clock must not get heartbeats refused.
  // Live heartbeats keep the host's own sent_at, so the Worker's clock_skew monitor still sees a wrong
  // clock; webhook-timestamp, and sent_at of what is backfilled, are on the Worker's clock.
  const clock = new WorkerClock(Date.now, (offsetMs, previousMs) =>
    offsetMs === 0
      ? log('info', "the agent's clock agrees with the Worker's again", { was_off_by_s: previousMs / 1000 })
      : log('warn', "the agent's clock is off the Worker's; signing with the Worker's time (fix the host's NTP)", {
          off_by_s: -offsetMs / 1000,
        }),
  );
  const transport = {
    workerUrl: config.worker_url,
    agentId: config.agent_id,
    secret: config.secret,
    timeoutMs: config.send_timeout_s * 1000,
    clock,
  };
  const send = createSender(transport);
  // systemd's StateDirectory= sets STATE_DIRECTORY; otherwise the working directory.
  const spoolDir = config.spool_dir ?? join(process.env.STATE_DIRECTORY ?? '.', 'blindspot-spool');
  const spool = {
    store: new Spool(spoolDir, { maxBytes: config.spool_max_mb * 2 ** 20, maxAgeMs: config.spool_max_age_h * 3_600_000 }),
    send: createSender({ ...transport, path: 'backfill' }),
    offsetMs: () => clock.offsetMs,
  };
  const heartbeat = (seq: number, signals: Signal[], stopping = false) => ({
    id: heartbeatId(boot, seq),
    body: buildHeartbeat({ seq, boot, intervalS: config.interval_s, graceS: config.grace_s, signals, now: new Date(), stopping }),
  });
  let lastSignals: Signal[] = [];
  let warnedOmitted = false;
  if (probes.length === 0)
    log('warn', "no probes configured: heartbeats carry no signals, so only the agent's silence can page (a dead man's switch)");
  log('info', 'agent started', {
    agent: config.agent_id,
    worker: config.worker_url,
    interval_s: config.interval_s,
    probes: probes.length,
    boot,
    spool: spool.store.dir,
    spooled: spool.store.size(),
  });
  const lastSeq = await runLoop({
    intervalMs: config.interval_s * 1000,
    next: async (seq) => {
      const collected = await collectAll(probes, config.labels);
      if (collected.omitted > 0 && !warnedOmitted) {
        warnedOmitted = true;
        log(
          'warn',
          `signals left out of the heartbeat: duplicates, or more than the protocol's limit per heartbeat; use fewer probes or fewer series`,
          { omitted: collected.omitted },
        );
      }
      return heartbeat(seq, (lastSignals = collected.signals));
    },
    send,
    log,
    now: Date.now,
    sleep: abortableSleep,
    signal,
    spool,
  });
  // Say goodbye once, so the silence that follows is recorded as expected instead of paging anyone.
  const goodbye = heartbeat(lastSeq + 1, lastSignals, true);
  const outcome = await send(goodbye.id, goodbye.body);
  log(outcome.kind === 'accepted' ? 'info' : 'warn', 'agent stopped', { agent: config.agent_id, stopping_heartbeat: outcome.kind });
}
