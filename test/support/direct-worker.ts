// The Worker in workerd through Miniflare, with nothing of wrangler dev in front of it: the bundle
// `wrangler deploy` would upload, the bindings wrangler.toml declares (read by wrangler itself), a
// local D1 and SQLite Durable Objects persisted where `wrangler dev --persist-to` keeps them, so
// `wrangler d1` reads the same database.
//
// Why not wrangler dev, as the other fault tests use: under load, wrangler dev runs a second workerd
// (its proxy) in front of the Worker's and sends every request's log line, and every devtools event
// of its inspector, to its own Node process. At 200 heartbeats a second on two vCPUs those hops took
// about 46 % of a core, more than the Worker itself (42 %), and with one vCPU busy elsewhere the
// three together fell behind until nothing answered. That is a development server's cost, absent in
// production; the load test measures the Worker.
import { migratedD1 } from './migrated-d1.ts';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { hermeticWranglerConfig } from './hermetic-wrangler.ts';
import { tailKeeper } from '../../scripts/local-worker.ts';
import { OFFLINE_ENV, WRANGLER_BIN } from '../../scripts/wrangler.js';
import { freePort } from './ports.ts';

export interface DirectWorker {
  url: string;
  dir: string;
  persistTo: string;
  /** The last of what workerd printed (the Worker's console output), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Bundles the Worker as `wrangler deploy --dry-run` does, into outdir. */
async function bundle(outdir: string): Promise<void> {
  const child = spawn(process.execPath, [WRANGLER_BIN, 'deploy', '--dry-run', '--outdir', outdir], {
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${out}`);
}

/** Keeps what workerd prints, bounded, instead of writing it to the test's console. */
class KeptLog extends Log {
  readonly kept = tailKeeper();
  constructor() {
    super(LogLevel.WARN);
  }
  override log(message: string): void {
    this.kept.add(`${message}\n`);
  }
}

export async function startDirectWorker(prefix: string, vars: Record<string, string>): Promise<DirectWorker> {
  const dir = mkdtempSync(join(tmpdir(), `blindspot-${prefix}-`));
  const persistTo = join(dir, 'state');
  const outdir = join(dir, 'bundle');
  let mf: Miniflare | undefined;
  try {
    await Promise.all([bundle(outdir), migratedD1(persistTo)]);
    const { workerOptions } = unstable_getMiniflareWorkerOptions(hermeticWranglerConfig(process.cwd(), join(dir, 'config')));
    const log = new KeptLog();
    const port = await freePort();
    mf = new Miniflare({
      ...workerOptions,
      name: 'blindspot',
      modules: true,
      modulesRoot: outdir,
      scriptPath: join(outdir, 'index.js'),
      bindings: { ...(workerOptions.bindings as Record<string, unknown> | undefined), ...vars },
      host: '127.0.0.1',
      port,
      cf: false,
      // The same layout as `wrangler dev --persist-to`: D1 and Durable Objects under v3/.
      defaultPersistRoot: join(persistTo, 'v3'),
      logRequests: false,
      log,
      handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
        stdout.on('data', (d: Buffer) => log.kept.add(d));
        stderr.on('data', (d: Buffer) => log.kept.add(d));
      },
    });
    const url = (await mf.ready).origin;
    const running = mf;
    return {
      url,
      dir,
      persistTo,
      output: log.kept.text,
      stop: async () => {
        await running.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e: unknown) {
    // A workerd that started but never became ready is stopped too, not left behind.
    await mf?.dispose().catch((disposeError: unknown) => console.error('could not stop workerd after a failed start:', disposeError));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * For a failure message: the workerd processes as ps sees them (state, memory, CPU),
 * which tells a hung process (R or S with an answerless port) from one that is gone.
 */
export function processReport(): string {
  const ps = spawnSync('ps', ['-eo', 'pid,ppid,stat,rss,pcpu,etimes,args'], { encoding: 'utf8' });
  if (ps.status !== 0) return `ps failed: ${ps.stderr}`;
  const [header, ...lines] = ps.stdout.split('\n');
  return [header ?? '', ...lines.filter((l) => /workerd/.test(l))].map((l) => l.slice(0, 200)).join('\n');
}
