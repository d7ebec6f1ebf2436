// The agent as its own process against a test Worker: writes its configuration (one heartbeat a
// second unless told otherwise, the spool in the Worker's directory) and starts `blindspot-agent run`. The caller stops it
// with killAndWait.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorker } from './e2e-worker.ts';

/** `probes`: one YAML flow mapping a probe, e.g. `{ type: prometheus, url: "http://…" }`. */
export function startAgentProcess(
  worker: TestWorker,
  agentId: string,
  secret: string,
  probes: readonly string[],
  intervalS = 1,
): ChildProcess {
  const config = join(worker.dir, 'agent.yaml');
  writeFileSync(
    config,
    [
      `agent_id: ${agentId}`,
      `worker_url: ${worker.url}`,
      `secret: ${secret}`,
      `interval_s: ${intervalS}`,
      `spool_dir: ${join(worker.dir, 'spool')}`,
      'probes:',
      ...probes.map((p) => `  - ${p}`),
    ].join('\n'),
  );
  return spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', config], { stdio: 'ignore' });
}
