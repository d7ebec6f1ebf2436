// The in-process OpenTelemetry hook's cost per span: the same tracer provider (always-on sampler, batch
// processor, an exporter that succeeds at once) with and without the hook, spans started and ended in a
// tight loop. Rounds alternate between the two so drift hits both; the hook's cost is the median of the
// per-round differences, with its interquartile range (the noise between runs on a shared 2-core VM).
// Target: the hook adds under 1 µs per span.
import { ExportResultCode } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createOtelHook } from '../agent/otel/index.ts';
import { machine, record } from './record.ts';

const SPANS = 200_000;
const ROUNDS = 15;
const QUEUE = { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 1000 };
const noop: SpanExporter = { export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => undefined };

function provider(withHook: boolean) {
  if (!withHook) return new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(noop, QUEUE)] });
  const hook = createOtelHook();
  return new BasicTracerProvider({ sampler: hook.sampler(new AlwaysOnSampler()), spanProcessors: [hook.batchSpanProcessor(noop, QUEUE)] });
}

function nsPerSpan(withHook: boolean): number {
  const tracer = provider(withHook).getTracer('bench');
  const started = process.hrtime.bigint();
  for (let i = 0; i < SPANS; i++) tracer.startSpan('op').end();
  return Number(process.hrtime.bigint() - started) / SPANS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

// Warm up both paths so the JIT has compiled them before anything is measured.
nsPerSpan(false);
nsPerSpan(true);
const without: number[] = [];
const withHook: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  without.push(nsPerSpan(false));
  withHook.push(nsPerSpan(true));
}
const base = median(without);
const hooked = median(withHook);
const diffs = withHook.map((w, i) => w - (without[i] as number)).sort((a, b) => a - b);
const added = median(diffs);
const quartile = (q: number) => Number((diffs[Math.floor(q * (diffs.length - 1))] as number).toFixed(1));
const result = {
  benchmark: 'otel-hook-cost-per-span',
  date: new Date().toISOString(),
  machine: machine(),
  setup: {
    spans_per_round: SPANS,
    rounds: ROUNDS,
    sampler: 'AlwaysOn',
    processor: 'BatchSpanProcessor',
    queue: QUEUE,
    exporter: 'succeeds at once',
  },
  ns_per_span: {
    sdk_alone: Number(base.toFixed(1)),
    sdk_with_hook: Number(hooked.toFixed(1)),
    added_by_hook: Number(added.toFixed(1)),
    added_interquartile: [quartile(0.25), quartile(0.75)],
  },
  rounds_ns_per_span: { sdk_alone: without.map((x) => Math.round(x)), sdk_with_hook: withHook.map((x) => Math.round(x)) },
  ratio: Number((hooked / base).toFixed(3)),
  target: 'the hook adds under 1000 ns per span',
  met: added < 1000,
};
record('otel-hook', result);
if (!result.met) process.exitCode = 1;
