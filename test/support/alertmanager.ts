// A real Alertmanager (Debian's prometheus-alertmanager) on loopback, clustering off, temp storage.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface RunningAlertmanager {
  url: string;
  stop(): Promise<void>;
}

export async function startAlertmanager(configYaml: string): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-am-'));
  const port = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
  const child: ChildProcess = spawn(ALERTMANAGER_BIN, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // An empty address turns clustering off, so nothing listens beyond loopback.
    '--cluster.listen-address=',
    '--log.level=warn',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('Alertmanager to be ready', async () => (await fetch(`${url}/-/ready`)).ok, 20_000);
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  return { url, stop };
}
