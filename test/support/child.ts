// Stopping what a test started: kill a child process that is still running and wait until it is gone.
import { type ChildProcess, spawn } from 'node:child_process';

export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Runs a CLI (a file in bin/) as its own process, asynchronously: a server in the test process must
 * keep answering it. Killed after 60 s.
 */
export function runBin(
  bin: string,
  args: string[],
  env: Record<string, string>,
  /** `node`: which Node runs it (default this one); `cwd`; `inherit: false` gives it only `env`. */
  options: { node?: string; cwd?: string; inherit?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(options.node ?? process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: options.inherit === false ? env : { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}
