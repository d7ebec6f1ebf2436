import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { waitFor } from '../support/ports.ts';
import { scratchDir } from '../support/scratch-dir.ts';

describe('an agent stopped on purpose', () => {
  let receiver: Recorder;
  beforeAll(async () => {
    receiver = await startRecorder();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('sends one last heartbeat with stopping: true on SIGTERM, with the next seq, then exits 0', async () => {
    const dir = scratchDir('blindspot-stop-');
    writeFileSync(
      join(dir, 'agent.yaml'),
      `agent_id: stopper\nworker_url: ${receiver.url}\nsecret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\ninterval_s: 1\nspool_dir: ${join(dir, 'spool')}\nprobes: [{ type: demo }]\n`,
    );
    const agent = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', join(dir, 'agent.yaml')], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    await waitFor('two heartbeats', async () => receiver.requests.length >= 2, 15_000);
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as { seq: number; stopping?: boolean; signals: unknown[] });
    const last = bodies[bodies.length - 1]!;
    expect(last.stopping).toBe(true);
    expect(last.seq).toBe(bodies[bodies.length - 2]!.seq + 1);
    expect(last.signals).toHaveLength(9);
    expect(bodies.slice(0, -1).every((b) => b.stopping === undefined)).toBe(true);
  });
});
