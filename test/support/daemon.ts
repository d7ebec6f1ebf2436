// Starts a server program from Debian on loopback, waits for its /-/ready, and stops it (TERM, then
// KILL after 5 s) removing its temporary directory. Prometheus and Alertmanager both fit this shape.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { waitFor } from './ports.ts';

export interface Daemon {
  url: string;
  /** Its temporary directory (configuration, data). */
  dir: string;
  /** Sends it a signal, e.g. SIGHUP to reload its configuration. */
  signal(sig: NodeJS.Signals): void;
  /** A clean restart, as a rollout does it: TERM, wait for the exit, start again with the same arguments and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(name: string, bin: string, args: string[], port: number, dir: string): Promise<Daemon> {
  let child: ChildProcess = spawn(bin, args, { stdio: 'ignore' });
  let exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const terminate = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate();
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = () => waitFor(`${name} to be ready`, async () => (await fetch(`${url}/-/ready`)).ok, 20_000);
  try {
    await ready();
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  const restart = async () => {
    await terminate();
    child = spawn(bin, args, { stdio: 'ignore' });
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await ready();
  };
  return { url, dir, signal: (sig) => void child.kill(sig), restart, stop };
}
