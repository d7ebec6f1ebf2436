// A real Prometheus (the Debian package) on loopback with a temporary data directory, scraping itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface RunningPrometheus {
  url: string;
  dir: string;
  signal(sig: NodeJS.Signals): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  scrapeIntervalS?: number;
  /** Contents of a rule file (groups: ...), evaluated every scrape interval. */
  rules?: string;
  /** Where firing alerts are sent, e.g. http://127.0.0.1:9093. */
  alertmanagerUrl?: string;
  /** How often firing alerts are re-sent to Alertmanager (Prometheus's default is 1m). */
  resendDelayS?: number;
  /** Where to remote-write everything it scrapes. */
  remoteWriteUrl?: string;
  /** Accept remote writes at /api/v1/write (to be another Prometheus's remote-write target). */
  remoteWriteReceiver?: boolean;
  /** More scrape jobs besides Prometheus itself. */
  scrape?: { job: string; target: string; honorLabels?: boolean; sampleLimit?: number }[];
}

export async function startPrometheus(options: PrometheusOptions = {}): Promise<RunningPrometheus> {
  const scrapeIntervalS = options.scrapeIntervalS ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-prom-'));
  const port = await freePort();
  if (options.rules !== undefined) writeFileSync(join(dir, 'rules.yml'), options.rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${scrapeIntervalS}s`,
      `  evaluation_interval: ${scrapeIntervalS}s`,
      ...(options.rules !== undefined ? ['rule_files:', `  - ${join(dir, 'rules.yml')}`] : []),
      ...(options.remoteWriteUrl !== undefined ? ['remote_write:', `  - url: ${options.remoteWriteUrl}`, '    name: replica'] : []),
      ...(options.alertmanagerUrl !== undefined
        ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${new URL(options.alertmanagerUrl).host}']`]
        : []),
      'scrape_configs:',
      '  - job_name: self',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
      ...(options.scrape ?? []).flatMap((s) => [
        `  - job_name: ${s.job}`,
        `    honor_labels: ${s.honorLabels === true}`,
        ...(s.sampleLimit !== undefined ? [`    sample_limit: ${s.sampleLimit}`] : []),
        '    static_configs:',
        `      - targets: ['${s.target}']`,
      ]),
    ].join('\n'),
  );
  return startDaemon(
    'Prometheus',
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.remoteWriteReceiver === true ? ['--web.enable-remote-write-receiver'] : []),
      ...(options.resendDelayS !== undefined ? [`--rules.alert.resend-delay=${options.resendDelayS}s`] : []),
    ],
    port,
    dir,
  );
}
