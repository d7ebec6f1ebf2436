// A real Alertmanager (Debian's prometheus-alertmanager) on loopback, clustering off, temp storage.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface RunningAlertmanager {
  url: string;
  dir: string;
  signal(sig: NodeJS.Signals): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** This member's gossip address on loopback, e.g. 127.0.0.1:9094. */
  listen: string;
  peers: string[];
}

/** Without `cluster`, clustering is off; with it, the gossip stays on loopback too. */
export async function startAlertmanager(configYaml: string, cluster?: ClusterOptions): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-am-'));
  const port = await freePort();
  writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
  return startDaemon(
    'Alertmanager',
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // An empty address turns clustering off, so nothing listens beyond loopback.
      ...(cluster === undefined
        ? ['--cluster.listen-address=']
        : [
            `--cluster.listen-address=${cluster.listen}`,
            `--cluster.advertise-address=${cluster.listen}`,
            ...cluster.peers.map((p) => `--cluster.peer=${p}`),
            '--cluster.gossip-interval=100ms',
            '--cluster.pushpull-interval=1s',
            '--cluster.peer-timeout=1s',
          ]),
      '--log.level=warn',
    ],
    port,
    dir,
  );
}

/** Makes a silence through Alertmanager's API (starting now, for an hour) and returns its id. */
export async function addSilence(
  url: string,
  matchers: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[],
  createdBy = 'sam',
  comment = 'quiet during the migration',
): Promise<string> {
  const now = Date.now();
  const res = await fetch(`${url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy,
      comment,
    }),
  });
  if (res.status !== 200) throw new Error(`Alertmanager refused the silence: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { silenceID: string }).silenceID;
}
