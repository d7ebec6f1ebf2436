// Runs the Worker locally under `wrangler dev` (real workerd, local D1), offline. Used by npm start
// and by the end-to-end tests; every process started here is stopped by stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { OFFLINE_ENV, WRANGLER_BIN } from './wrangler.js';

export interface LocalWorker {
  url: string;
  /** wrangler's pid, which leads the process group of wrangler, workerd and all. */
  pid: number | undefined;
  /** The last OUTPUT_KEPT characters wrangler printed (for test failure messages). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL to wrangler, workerd and all: a crash, with no chance to finish anything (fault tests). */
  kill(): Promise<void>;
  /** SIGSTOP or SIGCONT to wrangler, workerd and all: a Worker paused and let go again (fault tests). */
  freeze(frozen: boolean): void;
}

export interface LocalWorkerOptions {
  port: number;
  persistTo?: string;
  envFile?: string;
  /** Print wrangler's output as it comes (npm start), or only keep it (tests). */
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Also append all of wrangler's output to this file (the kept tail is bounded; this is not). */
  logTo?: string;
}

/**
 * How much of wrangler's output a LocalWorker keeps. Under load wrangler logs a line per request;
 * keeping all of it once grew past V8's string limit and threw in the stream handler.
 */
export const OUTPUT_KEPT = 256 * 1024;

/** Appends to a bounded tail: the newest text is kept, the oldest dropped. */
export function tailKeeper(limit = OUTPUT_KEPT): { add(chunk: Buffer | string): void; text(): string } {
  let out = '';
  return {
    add(chunk) {
      out += chunk;
      if (out.length > limit * 2) out = out.slice(-limit);
    },
    text: () => (out.length > limit ? out.slice(-limit) : out),
  };
}

/**
 * wrangler dev records every invocation, span and storage call of the Worker into a local trace
 * collector by default (X_LOCAL_OBSERVABILITY, for its local dashboard). Deployed Workers do nothing
 * of the kind, and under load it took a fifth of workerd's time: it is off unless asked for.
 */
const LOCAL_OBSERVABILITY = { X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? 'false' };

function wrangler(args: string[], echo: boolean): ChildProcess {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], {
    env: { ...process.env, ...OFFLINE_ENV, ...LOCAL_OBSERVABILITY, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', echo ? 'inherit' : 'pipe', echo ? 'inherit' : 'pipe'],
    // Its own process group, so stop() reaches workerd and esbuild too.
    detached: true,
  });
}

export async function applyMigrations(options: { persistTo?: string; echo?: boolean }): Promise<void> {
  const args = ['d1', 'migrations', 'apply', 'DB', '--local', ...(options.persistTo ? ['--persist-to', options.persistTo] : [])];
  const child = wrangler(args, options.echo ?? false);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`wrangler d1 migrations apply failed (exit ${code}):\n${out}`);
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const args = [
    'dev',
    '--local',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--test-scheduled',
    // The devtools port chosen by the system when it binds: by default wrangler takes 9229 if it looked
    // free, and two wrangler dev started at once (test files side by side) could both pick it, one then
    // failing with "Address already in use".
    '--inspector-port',
    '0',
    '--show-interactive-dev-session=false',
    '--log-level',
    process.env.BLINDSPOT_WRANGLER_LOG_LEVEL ?? 'info',
  ];
  if (options.persistTo) args.push('--persist-to', options.persistTo);
  if (options.envFile) args.push('--env-file', options.envFile);
  const child = wrangler(args, options.echo ?? false);
  const kept = tailKeeper();
  const log = options.logTo === undefined ? null : createWriteStream(options.logTo, { flags: 'a' });
  const take = (d: Buffer) => (kept.add(d), log?.write(d));
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  /** How wrangler ended; null while it runs. */
  let ending: string | null = null;
  const exited = () => ending !== null;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      ending = signal === null ? `exit code ${code}` : `signal ${signal}`;
      log?.end();
      resolve();
    }),
  );

  const stop = async () => {
    if (exited() || child.pid === undefined) return;
    // A group left stopped (a fault test that failed mid-freeze) takes SIGTERM only once continued.
    process.kill(-child.pid, 'SIGCONT');
    process.kill(-child.pid, 'SIGTERM');
    const killed = await Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
    if (!killed && !exited()) process.kill(-child.pid, 'SIGKILL');
    await exit;
  };

  const kill = async () => {
    if (exited() || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGKILL');
    await exit;
  };

  const freeze = (frozen: boolean) => {
    if (!exited() && child.pid !== undefined) process.kill(-child.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  };

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`wrangler dev ended (${ending}) before it was ready:\n${kept.text()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      // 503 is an answer too: /healthz says so when settings need attention, and the Worker is up.
      if (res.status === 200 || res.status === 503) return { url, pid: child.pid, output: kept.text, stop, kill, freeze };
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url} within ${options.readyTimeoutMs ?? 30_000} ms:\n${kept.text()}`);
}
