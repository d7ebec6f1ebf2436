// A real Prometheus (the Debian package) on loopback with a temporary data directory, scraping itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

export async function startPrometheus(scrapeIntervalS = 1): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-prom-'));
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    `  scrape_interval: ${scrapeIntervalS}s`,
    `  evaluation_interval: ${scrapeIntervalS}s`,
    'scrape_configs:',
    '  - job_name: self',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
  ].join('\n'));
  const child: ChildProcess = spawn(PROMETHEUS_BIN, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('Prometheus to be ready', async () => (await fetch(`${url}/-/ready`)).ok, 20_000);
  } catch (e: unknown) {
    await stop();
    throw e;
  }
  return { url, stop };
}
