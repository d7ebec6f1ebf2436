// The agent's own cost: CPU share of one core and resident memory of a `blindspot-agent run` process
// with 10 probes at a 15 s interval, against real Prometheus, Alertmanager and Pushgateway on loopback,
// over 10 minutes (BENCH_MINUTES to shorten a trial run). The agent is the deployable single file
// (npm run build:agent). Measured side by side with a baseline: an idle Node process with a timer. Linux: reads /proc/<pid>/stat
// and /proc/<pid>/status. Heartbeats go to a loopback receiver that accepts them: the Worker's cost is
// not the agent's.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../protocol/signature.ts';
import { startAlertmanager } from '../test/support/alertmanager.ts';
import { startRecorder } from '../test/support/http-recorder.ts';
import { startPrometheus } from '../test/support/prometheus.ts';
import { startPushgateway } from '../test/support/pushgateway.ts';
import { machine, record } from './record.ts';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
/** BENCH_ALERT_RULES=off measures the agent without the alerting-rule check (to see what it costs). */
const ALERT_RULES = process.env.BENCH_ALERT_RULES !== 'off';
const INTERVAL_S = 15;
const TICK_HZ = 100; // getconf CLK_TCK on Linux
const WARMUP_MS = 20_000;
/** Node flags the agent runs with, as the systemd unit in docs/running-the-agent.md and deploy/Dockerfile give them. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=1 --max-old-space-size=48 --optimize-for-size')
  .split(' ')
  .filter(Boolean);
/** glibc malloc arenas, as the README's systemd unit and Deployment set them: 2 instead of 8 per core. */
const MALLOC_ARENA_MAX = process.env.BENCH_MALLOC_ARENA_MAX ?? '2';

interface Sample {
  at: number;
  cpuTicks: number;
  rssKb: number;
  /** Of the resident set, what is the process's own (anonymous: heap, JIT code, buffers), not mapped files such as the Node binary's code. */
  anonKb: number;
}

function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const anonKb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return { at: performance.now(), cpuTicks, rssKb, anonKb };
}

function summarise(samples: Sample[]) {
  const first = samples[0] as Sample;
  const last = samples.at(-1) as Sample;
  const cpuShare = (last.cpuTicks - first.cpuTicks) / TICK_HZ / ((last.at - first.at) / 1000);
  const rss = samples.map((s) => s.rssKb / 1024);
  const anon = samples.map((s) => s.anonKb / 1024);
  const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(1));
  // The first and last fifth of the run: a resident set that keeps growing would show here.
  const fifth = Math.max(1, Math.floor(rss.length / 5));
  return {
    cpu_percent_of_one_core: Number((cpuShare * 100).toFixed(3)),
    rss_mb: {
      mean: mean(rss),
      max: Number(Math.max(...rss).toFixed(1)),
      first_fifth_mean: mean(rss.slice(0, fifth)),
      last_fifth_mean: mean(rss.slice(-fifth)),
    },
    // The resident set less the pages of mapped files (the Node binary's code above all, the same for any Node program).
    anon_mb: { mean: mean(anon), max: Number(Math.max(...anon).toFixed(1)) },
  };
}

/** Series a rule may read: ten that exist on this stack, two that do not (rules that cannot fire). */
const RULE_INPUTS = [
  'up{job="self"}',
  'up{job="pushgateway"}',
  'prometheus_tsdb_head_series',
  'scrape_duration_seconds{job="self"}',
  'scrape_samples_scraped{job="pushgateway"}',
  'prometheus_rule_group_last_duration_seconds',
  'prometheus_notifications_queue_length',
  'process_resident_memory_bytes{job="self"}',
  'prometheus_tsdb_head_chunks',
  'go_goroutines{job="self"}',
  'node_cpu_seconds_total{mode="user"}',
  'http_requests_total{job="api"}',
];

/** 20 alerting rules over those 12 selectors, some with an `unless absent(...)` that is not needed: the rule check's work. */
const RULES = `groups:
  - name: bench
    rules:
${Array.from({ length: 20 }, (_, i) => `      - alert: Bench${i}\n        expr: '${RULE_INPUTS[i % RULE_INPUTS.length]} > ${i}${i % 4 === 0 ? ` unless absent(missing_${i})` : ''}'`).join('\n')}
`;

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'blindspot-bench-agent-'));
  const receiver = await startRecorder();
  const collector = await startRecorder();
  collector.answer(() => ({ status: 200, body: readFileSync('test/agent/fixtures/otelcol-0.115.txt', 'utf8') }));
  const pushgateway = await startPushgateway();
  const alertmanager = await startAlertmanager('route: { receiver: none }\nreceivers: [{ name: none }]\n');
  const health = await startRecorder();
  health.answer(() => ({ status: 200, body: readFileSync('test/agent/fixtures/healthcheckv2-verbose.json', 'utf8') }));
  const prometheus = await startPrometheus({
    scrapeIntervalS: 5,
    alertmanagerUrl: alertmanager.url,
    rules: RULES,
    scrape: [{ job: 'pushgateway', target: pushgateway.host, honorLabels: true }],
  });
  const children: ChildProcess[] = [];
  try {
    const p = prometheus.url;
    writeFileSync(
      join(dir, 'agent.yaml'),
      [
        'agent_id: bench',
        `worker_url: ${receiver.url}`,
        `secret: ${generateSecret()}`,
        `interval_s: ${INTERVAL_S}`,
        `spool_dir: ${join(dir, 'spool')}`,
        'probes:',
        `  - { type: prometheus, url: "${p}", freshness: [{ job: self }, { job: pushgateway }]${ALERT_RULES ? '' : ', alert_rules: false'} }`,
        `  - { type: alertmanager, url: "${alertmanager.url}" }`,
        `  - { type: otel_collector, url: "${collector.url}/metrics", health_url: "${health.url}/status" }`,
        `  - { type: pushgateway_canary, pushgateway_url: "${pushgateway.url}", prometheus_url: "${p}" }`,
        `  - { type: prometheus_freshness, name: self.freshness, url: "${p}", selector: "prometheus_build_info" }`,
        `  - { type: promql, name: q.targets, url: "${p}", query: "count(up)", kind: dropped }`,
        `  - { type: promql, name: q.samples, url: "${p}", query: "sum(scrape_samples_scraped)", kind: dropped }`,
        `  - { type: promql, name: q.rules, url: "${p}", query: "count(prometheus_rule_group_last_duration_seconds) or vector(0)", kind: dropped }`,
        `  - { type: promql, name: q.duration, url: "${p}", query: "max(scrape_duration_seconds)", kind: queue_age }`,
        `  - { type: promql, name: q.series, url: "${p}", query: "prometheus_tsdb_head_series", kind: dropped, on_empty: zero }`,
      ].join('\n'),
    );
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-agent.ts'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`build:agent failed: ${built.stderr}`);
    const agent = spawn(process.execPath, [...NODE_FLAGS, 'build/blindspot-agent.mjs', 'run', '--config', join(dir, 'agent.yaml')], {
      stdio: 'ignore',
      env: { ...process.env, MALLOC_ARENA_MAX },
    });
    // The baseline: the same Node doing nothing but a timer.
    const baseline = spawn(process.execPath, ['-e', `setInterval(() => {}, ${INTERVAL_S * 1000})`], { stdio: 'ignore' });
    children.push(agent, baseline);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const samples: { agent: Sample[]; baseline: Sample[] } = { agent: [], baseline: [] };
    const end = performance.now() + MINUTES * 60_000;
    while (performance.now() < end) {
      samples.agent.push(sample(agent.pid as number));
      samples.baseline.push(sample(baseline.pid as number));
      await new Promise((r) => setTimeout(r, 5000));
    }
    samples.agent.push(sample(agent.pid as number));
    samples.baseline.push(sample(baseline.pid as number));
    const heartbeats = receiver.requests.filter((r) => r.url.endsWith('/heartbeats'));
    const signals = (
      JSON.parse(heartbeats.at(-1)?.body ?? '{"signals":[]}') as { signals: { name: string; value: number | null; error?: string }[] }
    ).signals;
    const a = summarise(samples.agent);
    const b = summarise(samples.baseline);
    const result = {
      benchmark: 'agent-footprint',
      date: new Date().toISOString(),
      machine: machine(),
      setup: {
        node_flags: NODE_FLAGS.join(' '),
        malloc_arena_max: MALLOC_ARENA_MAX,
        probes: 10,
        alerting_rules: 20,
        alert_rule_check: ALERT_RULES,
        interval_s: INTERVAL_S,
        minutes: MINUTES,
        warmup_s: WARMUP_MS / 1000,
        heartbeats_sent: heartbeats.length,
        signals_per_heartbeat: signals.length,
        unknown_in_last_heartbeat: signals.filter((s) => s.value === null).map((s) => `${s.name}: ${s.error}`),
      },
      agent: a,
      baseline_idle_node: b,
      ratio: {
        cpu: Number((a.cpu_percent_of_one_core / Math.max(b.cpu_percent_of_one_core, 0.001)).toFixed(1)),
        rss: Number((a.rss_mb.max / b.rss_mb.max).toFixed(2)),
      },
      target: 'under 0.5 % of one core, under 80 MB resident',
      met: a.cpu_percent_of_one_core < 0.5 && a.rss_mb.max < 80,
    };
    record('agent-footprint', result);
    if (!result.met) process.exitCode = 1;
  } finally {
    await Promise.all(children.map(stop));
    await Promise.all([prometheus.stop(), alertmanager.stop(), pushgateway.stop(), receiver.close(), collector.close(), health.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
