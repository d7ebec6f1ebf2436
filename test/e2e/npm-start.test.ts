// The README's front door, as a newcomer runs it: `npm start` in a fresh checkout (a copy of the
// tracked files, no .dev.vars, no local state) brings up the Worker, the demo agent and the event
// receiver on 127.0.0.1:8787; the page says operational with proof; a demo agent killed as a crash
// would is shown not operational and paged (the receiver prints the window); Ctrl-C stops every
// process it started; with its port taken it says so and starts nothing. npm start's ports are fixed
// (the demo agent's configuration names 8787).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';

const PAGE = 'http://127.0.0.1:8787';
const checkout = mkdtempSync(join(tmpdir(), 'blindspot-npm-start-'));
let start: ChildProcess;
let output = '';

/** Whether something listens on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** npm start's processes (npm, tsx, wrangler, workerd, the demo agent): its descendants, by pid and command. */
function descendants(): { pid: number; args: string }[] {
  if (start?.pid === undefined) return [];
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const found = new Set([start.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) if (found.has(r.ppid) && !found.has(r.pid)) found.add(r.pid), (grew = true);
  }
  return rows.filter((r) => found.has(r.pid)).map(({ pid, args }) => ({ pid, args }));
}

/** Every process npm start was seen to run: once it is told to stop, none may be left, orphaned or not. */
const seen = new Map<number, string>();
function note(): { pid: number; args: string }[] {
  const now = descendants();
  for (const p of now) seen.set(p.pid, p.args);
  return now;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** waitFor, telling what npm start printed (by the time it gave up) when it does. */
const waitWithOutput: typeof waitFor = (what, check, timeoutMs, everyMs) =>
  waitFor(what, check, timeoutMs, everyMs).catch((e: Error) => {
    throw new Error(`${e.message}\nnpm start printed:\n${output.slice(-3000)}`);
  });

async function summary(): Promise<{
  status: { indicator: string };
  page: { verified_at: string | null };
  components: { id: string; blindspot_status: string }[];
}> {
  const res = await fetch(`${PAGE}/api/v2/summary.json`);
  if (!res.ok) throw new Error(`summary.json answered ${res.status}`);
  return (await res.json()) as Awaited<ReturnType<typeof summary>>;
}

beforeAll(async () => {
  for (const port of [8787, 8788])
    if (await listening(port)) throw new Error(`port ${port} is taken (is npm start already running?): this test runs npm start itself`);
  // A fresh checkout: the tracked files as they are in the work tree, the installed packages beside them.
  const root = process.cwd();
  for (const file of execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0')) {
    if (file === '' || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    copyFileSync(join(root, file), join(checkout, file));
  }
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  start = spawn('npm', ['start'], { cwd: checkout, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  start.stdout?.on('data', (d) => (output += d));
  start.stderr?.on('data', (d) => (output += d));
}, 10_000);

afterAll(async () => {
  // Whatever a failed test left running, so no workerd outlives the run.
  note();
  for (const pid of seen.keys()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(checkout, { recursive: true, force: true });
});

describe('npm start in a fresh checkout', () => {
  it('shows the demo stack operational, every component verified', async () => {
    const healthy = await waitWithOutput(
      'the page to say operational',
      async () => {
        const s = await summary();
        return s.status.indicator === 'none' && s.components.every((c) => c.blindspot_status === 'operational') ? s : undefined;
      },
      55_000,
      500,
    );
    expect(healthy.page.verified_at).not.toBeNull();
    expect(
      note()
        .map((p) => p.args)
        .join('\n'),
    ).toMatch(/workerd/);
    expect(output).toContain('created .dev.vars from .dev.vars.example');
    expect(output).toContain(`Blindspot status page: ${PAGE}/`);
  }, 60_000);

  it('shows a crashed demo agent as not operational, and pages it once', async () => {
    const agent = note().find((p) => p.args.includes('bin/blindspot-agent.js run'));
    expect(agent, 'the demo agent among npm start processes').toBeDefined();
    process.kill(agent?.pid as number, 'SIGKILL');
    await waitFor('the page to stop saying operational', async () => (await summary()).status.indicator !== 'none', 20_000, 500);
    // The event receiver npm start runs prints what the Worker sent it.
    await waitWithOutput(
      'the receiver to print the window',
      async () => /\[events\] window\.opened: agent demo agent_silent/.test(output),
      30_000,
      500,
    );
    expect(output.match(/\[events\] window\.opened: agent demo agent_silent/g)).toHaveLength(1);
    expect(output).toContain('demo agent exited');
  }, 60_000);

  it('stops every process it started on Ctrl-C', async () => {
    note();
    // Ctrl-C in a terminal: SIGINT to the foreground process group (npm, tsx and the demo agent; wrangler runs in its own).
    process.kill(-(start.pid as number), 'SIGINT');
    const left = () => [...seen].filter(([pid]) => alive(pid));
    await waitFor(`npm start's processes to end`, async () => left().length === 0, 30_000, 250).catch((e: Error) => {
      throw new Error(`${e.message}; still running: ${JSON.stringify(left())}`);
    });
    expect(await listening(8787)).toBe(false);
    expect(await listening(8788)).toBe(false);
  }, 40_000);

  it('with its port taken, says which and what to do, and starts nothing', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(8787, '127.0.0.1', resolve));
    try {
      const second = spawn('npm', ['start'], { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'] });
      let printed = '';
      second.stdout?.on('data', (d) => (printed += d));
      second.stderr?.on('data', (d) => (printed += d));
      const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
      expect(code, printed).toBe(1);
      expect(printed).toMatch(/needs 127\.0\.0\.1:8787, and it is in use: is another npm start running\?/);
      expect(printed).toMatch(/Stop it .* then run npm start again/);
      // Found before anything started: no migrations, no wrangler left behind.
      expect(printed).not.toContain('starting the Worker');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 30_000);
});
