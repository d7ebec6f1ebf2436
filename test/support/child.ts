// Stopping what a test started: kill a child process that is still running and wait until it is gone.
import type { ChildProcess } from 'node:child_process';

export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
