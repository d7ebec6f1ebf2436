// The scenario behind the gap report example in docs/gap-report.md. Run directly, it rewrites it in
// docs/gap-report.md: npx tsx test/docs/gap-report-example.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfigText } from '../../config/load.ts';
import { gapReport, type WindowRecord } from '../../worker/core/gap-report.ts';
import type { BackfilledHeartbeat } from '../../worker/core/link-outages.ts';
import { parseZone } from '../../worker/core/time-zone.ts';
import { gapReportShape, noticesOf } from '../../worker/routes/gap-shapes.ts';
import { renderMarkdown } from '../../ui/gap-report/markdown.ts';

export const README_START = '<!-- gap-report-example:start -->';
export const README_END = '<!-- gap-report-example:end -->';

const t = (hhmmss: string) => Date.parse(`2026-11-19T${hhmmss}Z`);
const MAINTENANCE = `\nmaintenance:\n  - { id: prom-upgrade, starts_at: "2026-11-19T10:30:00Z", ends_at: "2026-11-19T10:45:00Z", monitors: [prometheus-up], reason: Prometheus upgrade }\n`;

function window(
  id: string,
  monitor: string,
  component: string,
  cause: WindowRecord['cause'],
  level: string,
  from: string,
  to: string,
  extra: Partial<WindowRecord> = {},
): WindowRecord {
  return {
    id,
    agentId: 'prod-eu',
    monitor,
    component,
    cause,
    level,
    signal: null,
    startedAt: t(from),
    confirmedAt: t(from) + 30_000,
    notifiedAt: null,
    endedAt: t(to),
    peakValue: null,
    suppressedBy: null,
    source: 'engine',
    ...extra,
  };
}

export function exampleMarkdown(): string {
  const loaded = loadConfigText(readFileSync('blindspot.config.yaml', 'utf8') + MAINTENANCE);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const config = loaded.config;
  const windows: WindowRecord[] = [
    window('prod-eu:metrics-freshness:1', 'metrics-freshness', 'metrics', 'stale', 'blind', '09:12:30', '09:31:00', {
      signal: 'prometheus.metrics.freshness',
      peakValue: 1260,
      notifiedAt: t('09:13:05'),
    }),
    // The engine kept the heartbeats heard either side of the silence: boot b1, seq 999 before and 1047 after.
    window('prod-eu:agent:1', 'agent', 'metrics', 'agent_silent', 'blind', '09:40:15', '09:52:00', {
      notifiedAt: t('09:40:47'),
      anchors: { before: { boot: 'b1', seq: 999 }, after: { boot: 'b1', seq: 1047 } },
    }),
    window('prod-eu:alerts-dropped:1', 'alerts-dropped', 'alerting', 'dropped', 'blind', '10:05:00', '10:08:00', {
      signal: 'alertmanager.alerts.dropped',
      peakValue: 4,
      notifiedAt: t('10:05:20'),
    }),
    {
      ...window('watchdog:gap:1', 'watchdog', 'monitoring', 'watchdog_gap', 'unknown', '10:20:00', '10:26:00'),
      agentId: '*',
      source: 'watchdog',
    },
    window('prod-eu:prometheus-up:1', 'prometheus-up', 'metrics', 'stale', 'blind', '10:31:00', '10:38:00', {
      suppressedBy: 'maintenance:prom-upgrade',
    }),
  ];
  // The agent kept running through 09:40–09:52 and backfilled a heartbeat every 15 s; all was fresh.
  const backfill: BackfilledHeartbeat[] = Array.from({ length: 47 }, (_, i) => ({
    agentId: 'prod-eu',
    boot: 'b1',
    seq: 1000 + i,
    sentAt: t('09:40:15') + i * 15_000,
    intervalS: 15,
    signals: [
      { name: 'prometheus.metrics.freshness', kind: 'freshness', value: 20, error: null },
      { name: 'alertmanager.alerts.dropped', kind: 'dropped', value: 0, error: null },
    ],
  }));
  const range = { start: t('09:00:00'), end: t('11:00:00') };
  const report = gapReport({
    config,
    range,
    objective: config.gapReport.objective,
    filters: { agents: [], components: [], monitors: [], causes: [] },
    windows,
    backfill,
    agents: [{ id: 'prod-eu', firstSeenAt: t('00:00:00') - 30 * 86_400_000 }],
    feeds: ['prometheus-up', 'metrics-freshness', 'alerts-dropped', 'pipeline-canary'].map((monitor) => ({ agentId: 'prod-eu', monitor })),
  });
  const shape = gapReportShape({
    publicView: false,
    report,
    page: report.rows,
    total: report.rows.length,
    nextCursor: null,
    range: { from: range.start, to: range.end, clamped: false },
    zone: parseZone('UTC')!,
    filters: { agent: [], component: [], monitor: [], cause: [] },
    objective: config.gapReport.objective,
    limit: 500,
    maintenances: noticesOf([], config.maintenance, { from: range.start, to: range.end }),
    incidents: [
      {
        id: 'inc1',
        name: 'Delayed metrics',
        status: 'resolved',
        impact: 'minor',
        components: '["metrics"]',
        source: 'admin',
        started_at: t('09:20:00'),
        created_at: t('09:20:00'),
        updated_at: t('09:35:00'),
        monitoring_at: null,
        resolved_at: t('09:35:00'),
      },
    ],
    now: t('12:00:00'),
  });
  return renderMarkdown(shape);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync('docs/gap-report.md', 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`docs/gap-report.md lacks ${README_START} … ${README_END}`);
  writeFileSync('docs/gap-report.md', `${readme.slice(0, start + README_START.length)}\n${exampleMarkdown()}${readme.slice(end)}`);
  console.log('docs/gap-report.md: gap report example rewritten');
}
