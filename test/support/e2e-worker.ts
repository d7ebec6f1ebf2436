// A Worker under wrangler dev for one test file: its own temporary directory, settings written as an
// env file, migrations applied to a fresh local D1. stop() stops wrangler and removes the directory.
import { migratedD1 } from './migrated-d1.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalWorker, type LocalWorkerOptions, startLocalWorker } from '../../scripts/local-worker.ts';
import { freePort } from './ports.ts';

export interface TestWorker {
  /** The running Worker; undefined while stopped with pause(). */
  worker: LocalWorker | undefined;
  url: string;
  dir: string;
  persistTo: string;
  /** Stops wrangler but keeps its state, to be started again with resume() on the same port. */
  pause(): Promise<void>;
  /** Kills wrangler (SIGKILL, the whole process group) but keeps its state, for resume(). */
  crash(): Promise<void>;
  /** Stops the whole process group (SIGSTOP) for `ms` of real time, then lets it go on (SIGCONT). */
  freeze(ms: number): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestWorker(prefix: string, vars: Record<string, string>): Promise<TestWorker> {
  const dir = mkdtempSync(join(tmpdir(), `blindspot-${prefix}-`));
  const persistTo = join(dir, 'state');
  const envFile = join(dir, 'worker.env');
  // Public reads gather afresh each time unless the test says otherwise: tests read right after a change.
  writeFileSync(
    envFile,
    Object.entries({ BLINDSPOT_PUBLIC_REFRESH_S: '0', ...vars })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  await migratedD1(persistTo);
  // BLINDSPOT_TEST_LOGS=<dir> keeps all of wrangler's output per test Worker, for a failure's autopsy.
  const logs = process.env.BLINDSPOT_TEST_LOGS;
  if (logs) mkdirSync(logs, { recursive: true });
  const options = (port: number) => ({ port, persistTo, envFile, logTo: logs ? join(logs, `${prefix}-${port}.log`) : undefined });
  const { worker: first, port } = await startOnFreePort(options);
  const start = () => startLocalWorker(options(port));
  const t: TestWorker = {
    worker: first,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    dir,
    persistTo,
    pause: async () => {
      await t.worker?.stop();
      t.worker = undefined;
    },
    crash: async () => {
      await t.worker?.kill();
      t.worker = undefined;
    },
    resume: async () => {
      t.worker = await start();
    },
    freeze: async (ms) => {
      const worker = t.worker;
      worker?.freeze(true);
      try {
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        worker?.freeze(false);
      }
    },
    stop: async () => {
      await t.worker?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * Starts wrangler dev on a free port. Test files start Workers at once (npm test runs three at a
 * time): a port chosen free, or one wrangler picks for itself (its direct socket), can be taken by
 * another before it binds. Tried again on fresh ports, three times in all.
 */
export async function startOnFreePort(options: (port: number) => LocalWorkerOptions): Promise<{ worker: LocalWorker; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { worker: await startLocalWorker(options(port)), port };
    } catch (e) {
      if (attempt >= 3 || !String((e as Error).message).includes('Address already in use')) throw e;
    }
  }
}
