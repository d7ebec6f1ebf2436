// Probes whose peer is not packaged here (the OpenTelemetry Collector) read its real /metrics text,
// captured from two Collector versions, served over loopback. The rest: how probes are assembled into a
// heartbeat — self-telemetry, crashes, duplicates, the per-heartbeat limit — and doctor's verdicts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config.ts';
import { checkOfRun, doctor, doctorTable, hintFor } from '../../agent/doctor.ts';
import { Deltas } from '../../agent/probes/counters.ts';
import { otelCollectorProbe } from '../../agent/probes/otel-collector.ts';
import type { Probe } from '../../agent/probes/probe.ts';
import { collectAll, runProbe } from '../../agent/probes/registry.ts';
import { MAX_SIGNALS, parseHeartbeat, type Signal } from '../../protocol/heartbeat.ts';
import { generateSecret } from '../../protocol/signature.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { freePort } from '../support/ports.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const bump = (text: string, metric: string, by: number) =>
  text.replace(
    new RegExp(`^(${metric}\\{[^}]*\\}) (\\d+(?:\\.\\d+)?)$`, 'm'),
    (_, series: string, value: string) => `${series} ${Number(value) + by}`,
  );

let collector: Recorder;
let page = '';
beforeAll(async () => {
  collector = await startRecorder();
  collector.answer(() => ({ status: 200, body: page, headers: { 'content-type': 'text/plain; version=0.0.4' } }));
});
afterAll(() => collector?.close());

const probe = () => otelCollectorProbe({ name: 'otelcol', url: `${collector.url}/metrics`, timeoutS: 2, healthUrl: null, labels: {} });
const find = (signals: Signal[], name: string, label: [string, string]) =>
  signals.find((s) => s.name === name && s.labels?.[label[0]] === label[1]);

describe('the OpenTelemetry Collector probe', () => {
  it('reads a current Collector (_total counters): failures since the last heartbeat, refusals, queue fill per exporter', async () => {
    page = fixture('otelcol-0.115.txt');
    const p = probe();
    const first = await p.collect();
    // The first reading only sets the baseline.
    expect(first.filter((s) => s.kind === 'dropped').every((s) => s.value === 0)).toBe(true);
    page = bump(
      bump(bump(page, 'otelcol_exporter_send_failed_spans_total', 30), 'otelcol_receiver_refused_spans_total', 5),
      'otelcol_exporter_enqueue_failed_spans_total',
      2,
    );
    const second = await p.collect();
    expect(find(second, 'otelcol.export.send_failed', ['signal', 'spans'])).toMatchObject({
      kind: 'dropped',
      value: 30,
      unit: 'spans',
      error: null,
    });
    expect(find(second, 'otelcol.export.enqueue_failed', ['signal', 'spans'])?.value).toBe(2);
    expect(find(second, 'otelcol.receive.refused', ['signal', 'spans'])?.value).toBe(5);
    expect(find(second, 'otelcol.export.send_failed', ['signal', 'metric_points'])?.value).toBe(0);
    expect(find(second, 'otelcol.export.queue_fill', ['exporter', 'otlp/tempo'])).toMatchObject({ kind: 'saturation', value: 0.25 });
    expect(find(second, 'otelcol.export.queue_fill', ['exporter', 'prometheusremotewrite'])?.value).toBe(0);
    // No logs pipeline: nothing said about log records rather than a made-up zero.
    expect(second.some((s) => s.labels?.signal === 'log_records')).toBe(false);
    expect(parseHeartbeat({ v: 1, seq: 1, boot: 'b', sent_at: new Date().toISOString(), interval_s: 15, signals: second }).ok).toBe(true);
  });

  it('reads an older Collector (counters without _total), and a restart (counter reset) counts what came after', async () => {
    page = fixture('otelcol-0.98.txt');
    const p = probe();
    await p.collect();
    page = bump(page, 'otelcol_exporter_send_failed_log_records', 4);
    expect(find(await p.collect(), 'otelcol.export.send_failed', ['signal', 'log_records'])?.value).toBe(4);
    page = page.replace(/^(otelcol_exporter_send_failed_log_records\{[^}]*\}) \d+$/m, '$1 6');
    expect(find(await p.collect(), 'otelcol.export.send_failed', ['signal', 'log_records'])?.value).toBe(6);
    expect(find(await p.collect(), 'otelcol.receive.refused', ['signal', 'log_records'])?.value).toBe(0);
  });

  it.each([
    [
      'an HTML page',
      '<html><body>Grafana</body></html>',
      /no otelcol_exporter_\* or otelcol_receiver_\* metrics .* default :8888\/metrics/,
    ],
    ['an empty page', '', /no otelcol_exporter_/],
    [
      'a broken exposition line',
      'otelcol_exporter_sent_spans_total{exporter="x} 1\n',
      /not in the Prometheus text format: the sample of otelcol_exporter_sent_spans_total has no number/,
    ],
  ])('reports %s as unknown with a reason, never as zero failures', async (_label, text, error) => {
    page = text;
    const signals = await probe().collect();
    expect(signals.length).toBeGreaterThan(0);
    for (const s of signals) {
      expect(s.value).toBeNull();
      expect(s.error).toMatch(error);
    }
  });

  it('reports a Collector that answers 500 or is not there as unknown', async () => {
    collector.answer(() => ({ status: 500, body: 'internal error' }));
    try {
      const [s] = await probe().collect();
      expect(s).toMatchObject({ value: null, error: expect.stringMatching(/answered HTTP 500 at \/metrics: internal error/) });
    } finally {
      collector.answer(() => ({ status: 200, body: page }));
    }
    const gone = otelCollectorProbe({
      name: 'otelcol',
      url: `http://127.0.0.1:${await freePort()}/metrics`,
      timeoutS: 1,
      healthUrl: null,
      labels: {},
    });
    const signals = await gone.collect();
    expect(signals.map((s) => s.name)).toEqual(['otelcol.export.send_failed', 'otelcol.export.enqueue_failed', 'otelcol.receive.refused']);
    expect(signals.every((s) => s.value === null && /cannot reach the OpenTelemetry Collector .*ECONNREFUSED/.test(s.error ?? ''))).toBe(
      true,
    );
  });

  it('gives up on a Collector that never answers, within timeout_s', async () => {
    collector.answer(() => 'hang');
    try {
      const run = await runProbe(
        otelCollectorProbe({ name: 'otelcol', url: `${collector.url}/metrics`, timeoutS: 0.3, healthUrl: null, labels: {} }),
      );
      expect(run.signals[0]?.error).toMatch(/gave no answer within 0.3 s/);
      expect(run.durationMs).toBeLessThan(2000);
    } finally {
      collector.answer(() => ({ status: 200, body: page }));
    }
  });
});

describe('counters as deltas', () => {
  it('counts the increase, sets a baseline first, and treats a decrease as a restart', () => {
    const d = new Deltas();
    expect([d.next('a', 10), d.next('a', 15), d.next('a', 15), d.next('a', 3), d.next('b', 7)]).toEqual([0, 5, 0, 3, 0]);
  });
});

const fixed = (name: string, signals: Signal[]): Probe => ({ name, collect: async () => signals });
const sig = (name: string, value: number | null, labels: Record<string, string> = {}): Signal => ({
  name,
  kind: 'dropped',
  value,
  unit: 'items',
  error: value === null ? 'broken' : null,
  labels,
});

describe('assembling a heartbeat from probes', () => {
  it("adds per-probe duration and failed-signal counts as the agent's own signals", async () => {
    const { signals } = await collectAll([fixed('a', [sig('a.x', 1), sig('a.y', null)]), fixed('b', [sig('b.x', 0)])]);
    expect(signals.filter((s) => s.name === 'agent.probe.failed').map((s) => [s.labels?.probe, s.value])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    const durations = signals.filter((s) => s.name === 'agent.probe.duration');
    expect(durations.map((s) => s.labels?.probe)).toEqual(['a', 'b']);
    expect(durations.every((s) => s.kind === 'queue_age' && (s.value ?? -1) >= 0)).toBe(true);
  });

  it('turns a probe that throws into an unknown signal, and a slow one into a visible duration', async () => {
    const crashing: Probe = {
      name: 'bad',
      collect: async () => {
        throw new Error('boom');
      },
    };
    const slow: Probe = { name: 'slow', collect: () => new Promise((r) => setTimeout(() => r([sig('slow.x', 0)]), 300)) };
    const { signals } = await collectAll([crashing, slow]);
    expect(signals[0]).toMatchObject({ name: 'bad', value: null, error: 'probe crashed: boom' });
    expect(signals.find((s) => s.name === 'agent.probe.duration' && s.labels?.probe === 'slow')?.value).toBeGreaterThanOrEqual(0.29);
  });

  it("drops duplicates and keeps to the protocol's limit, so the Worker never refuses the heartbeat", async () => {
    const many = Array.from({ length: 80 }, (_, i) => sig('many', i, { i: String(i) }));
    const { signals, omitted } = await collectAll([fixed('dup', [sig('same', 1), sig('same', 2)]), fixed('many', many)]);
    expect(signals).toHaveLength(MAX_SIGNALS);
    expect(signals.filter((s) => s.name === 'same')).toEqual([expect.objectContaining({ value: 1 })]);
    expect(omitted).toBe(2 + 80 + 4 - MAX_SIGNALS);
    expect(parseHeartbeat({ v: 1, seq: 1, boot: 'b', sent_at: new Date().toISOString(), interval_s: 15, signals }).ok).toBe(true);
  });

  it("puts the configured labels on every signal, the signal's own labels winning", async () => {
    const { signals } = await collectAll([fixed('a', [sig('a.x', 1, { env: 'own' })])], { env: 'prod', region: 'eu' });
    expect(signals.map((s) => s.labels)).toEqual([
      { env: 'own', region: 'eu' },
      { env: 'prod', region: 'eu', source: 'blindspot-agent', probe: 'a' },
      { env: 'prod', region: 'eu', source: 'blindspot-agent', probe: 'a' },
    ]);
  });
});

describe("the OpenTelemetry Collector's pipeline health (healthcheckv2)", () => {
  // The verbose collector answer quoted from the healthcheckv2 extension's README: one pipeline with a
  // recoverable exporter error, one healthy.
  const verbose = fixture('healthcheckv2-verbose.json');
  let health: Recorder;
  let answer: () => { status: number; body?: string } | 'hang' = () => ({ status: 200, body: verbose });
  beforeAll(async () => {
    health = await startRecorder();
    health.answer(() => answer());
  });
  afterAll(() => health?.close());
  const probeWith = (healthUrl: string) =>
    otelCollectorProbe({ name: 'otelcol', url: `${collector.url}/metrics`, timeoutS: 1, healthUrl, labels: {} });
  const pipelines = (signals: Signal[]) =>
    signals.filter((s) => s.name === 'otelcol.pipeline.unhealthy').map((s) => [s.labels?.pipeline ?? null, s.value, s.error ?? null]);

  it('reports each pipeline: 1 while a component reports an error, 0 when all are OK; asks with ?verbose', async () => {
    page = fixture('otelcol-0.115.txt');
    const signals = await probeWith(`${health.url}/status`).collect();
    expect(pipelines(signals)).toEqual([
      ['metrics/grpc', 1, null],
      ['traces/http', 0, null],
    ]);
    expect(health.requests.at(-1)?.url).toMatch(/^\/status\?verbose=?$/);
  });

  it('reads the JSON of a 500 (the extension answers so once errors count as unhealthy)', async () => {
    answer = () => ({ status: 500, body: verbose.replace(/StatusOK/g, 'StatusPermanentError') });
    try {
      expect(pipelines(await probeWith(`${health.url}/status`).collect())).toEqual([
        ['metrics/grpc', 1, null],
        ['traces/http', 1, null],
      ]);
    } finally {
      answer = () => ({ status: 200, body: verbose });
    }
  });

  it.each([
    ['an answer that is not its JSON', () => ({ status: 200, body: '<html>ok</html>' }), /did not answer healthcheckv2 status JSON/],
    [
      'the non-verbose answer (no pipelines)',
      () => ({ status: 200, body: '{"healthy":true,"status":"StatusOK","status_time":"2024-01-18T17:39:15Z"}' }),
      /lists no pipeline/,
    ],
    ['a 503 without JSON', () => ({ status: 503, body: 'starting' }), /answered HTTP 503/],
  ] as const)('reports %s as unknown, never as healthy', async (_what, reply, error) => {
    answer = reply;
    try {
      const [s, ...rest] = pipelines(await probeWith(`${health.url}/status`).collect());
      expect(rest).toEqual([]);
      expect(s?.[0]).toBeNull();
      expect(s?.[1]).toBeNull();
      expect(s?.[2]).toMatch(error);
    } finally {
      answer = () => ({ status: 200, body: verbose });
    }
  });

  it('reports an unreachable health check as unknown', async () => {
    const [s] = pipelines(await probeWith(`http://127.0.0.1:${await freePort()}/status`).collect());
    expect(s?.[1]).toBeNull();
    expect(s?.[2]).toMatch(/cannot reach the Collector health check/);
  });
});

describe("the OpenTelemetry Collector's processor drops and receiver failures", () => {
  it('counts items processors dropped and receivers failed since the last heartbeat, where the Collector has those counters', async () => {
    // An older Collector's processor counters and a newer one's receiver failures, as the internal-telemetry docs name them.
    page = `${fixture('otelcol-0.115.txt')}
# TYPE otelcol_processor_dropped_spans counter
otelcol_processor_dropped_spans{processor="memory_limiter",service_name="otelcol"} 10
# TYPE otelcol_receiver_failed_spans_total counter
otelcol_receiver_failed_spans_total{receiver="otlp",transport="grpc",service_name="otelcol"} 4
`;
    const p = otelCollectorProbe({ name: 'otelcol', url: `${collector.url}/metrics`, timeoutS: 2, healthUrl: null, labels: {} });
    await p.collect();
    page = page.replace(/processor="memory_limiter",service_name="otelcol"\} 10/, 'processor="memory_limiter",service_name="otelcol"} 25');
    page = page.replace(/service_name="otelcol"\} 4$/m, 'service_name="otelcol"} 7');
    const second = await p.collect();
    expect(find(second, 'otelcol.process.dropped', ['signal', 'spans'])).toMatchObject({ kind: 'dropped', value: 15, error: null });
    expect(find(second, 'otelcol.receive.failed', ['signal', 'spans'])).toMatchObject({ kind: 'dropped', value: 3, error: null });
    // Item types without those counters are not reported as 0.
    expect(find(second, 'otelcol.process.dropped', ['signal', 'metric_points'])).toBeUndefined();
  });
});

describe('doctor', () => {
  it('says OK or FAIL per probe with the reason and a fix, and checks the Worker', async () => {
    const port = await freePort();
    const config = parseConfig(
      {
        agent_id: 'doc',
        worker_url: collector.url,
        secret: generateSecret(),
        probes: [{ type: 'demo' }, { type: 'prometheus', url: `http://127.0.0.1:${port}`, timeout_s: 1 }],
      },
      'agent.yaml',
      {},
    );
    const { probesOf } = await import('../../agent/main.ts');
    const { checks } = await doctor(config, probesOf(config));
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['demo', true],
      ['prometheus', false],
      ['prometheus.rules', false],
      ['worker', true],
      ['signature', true],
    ]);
    expect(checks[2]?.reason).toMatch(/cannot reach Prometheus/);
    expect(checks[1]?.reason).toMatch(/^\d+ of \d+ signal\(s\) failed: cannot reach Prometheus at http:\/\/127.0.0.1:\d+: ECONNREFUSED/);
    expect(checks[1]?.hint).toMatch(/is it running, and is the url/);
    const table = doctorTable(checks);
    expect(table.split('\n')[0]).toMatch(/PROBE\s+TYPE\s+REASON\s+FIX/);
    expect(table).toMatch(/^FAIL\s+prometheus\s+prometheus\s+/m);
  });

  it('reports a Worker that cannot be reached', async () => {
    const config = parseConfig(
      { agent_id: 'doc', worker_url: `http://127.0.0.1:${await freePort()}`, secret: generateSecret(), probes: [{ type: 'demo' }] },
      'agent.yaml',
      {},
    );
    const { checks } = await doctor(config, []);
    expect(checks).toEqual([
      expect.objectContaining({ name: 'worker', ok: false, hint: expect.stringMatching(/worker_url/) }),
      expect.objectContaining({ name: 'signature', ok: false, hint: expect.stringMatching(/worker_url/) }),
    ]);
  });

  it.each([
    ['Prometheus gave no answer within 5 s (http://p:9090)', /raise timeout_s/],
    ['Prometheus answered HTTP 404 at /prom/api/v1/query: 404 page not found', /url is the base URL/],
    ['selector up{job="x"} matched no series in the last 1h: no data is as blind as old data', /try it in the Prometheus UI/],
    ['no canary has come through yet: does Prometheus scrape the Pushgateway at g:9091?', /honor_labels: true/],
    ['something nobody foresaw', /docs\/running-the-agent.md/],
  ])('hints a fix for "%s"', (reason, hint) => {
    expect(hintFor(reason)).toMatch(hint);
  });

  it('counts a value that carries an error (a failed canary push) as a failure', () => {
    const check = checkOfRun({
      probe: { name: 'canary', type: 'pushgateway_canary', collect: async () => [] },
      durationMs: 5,
      signals: [{ name: 'canary.freshness', kind: 'freshness', value: 20, error: 'canary push failed, the age keeps growing: ...' }],
    });
    expect(check).toMatchObject({ ok: false, hint: expect.stringMatching(/pushgateway_url/) });
  });
});

describe('reading the exposition format', () => {
  it('keeps the last sample of a page that does not end with a newline', async () => {
    const { families } = await import('../../agent/probes/exposition.ts');
    expect(families('a_total 1\nb_total 2').get('b_total')).toEqual([{ labels: {}, value: 2 }]);
  });

  it('reads only the families asked for, with their HELP and TYPE lines', async () => {
    const { only } = await import('../../agent/probes/exposition.ts');
    expect(only('# HELP x_a help\n# TYPE x_a counter\nx_a 1\n# TYPE y gauge\ny 2\n# a comment\nx_b{l="1"} 3\n', ['x_'])).toBe(
      '# HELP x_a help\n# TYPE x_a counter\nx_a 1\nx_b{l="1"} 3',
    );
  });
});
