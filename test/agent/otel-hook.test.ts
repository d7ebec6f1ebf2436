// The in-process hook inside a real NodeSDK: a ratio sampler, a batch processor with a small queue and
// an OTLP/HTTP exporter whose collector refuses every batch. What the hook reports must match what
// really happened, counted independently by the test: spans started and sampled, spans that reached
// the exporter, spans whose export failed.
import { trace, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { type ReadableSpan, type SpanExporter, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtelHook } from '../../agent/otel/index.ts';
import { parseHeartbeat, type Signal } from '../../protocol/heartbeat.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { waitFor } from '../support/ports.ts';

const STARTED = 2000;
const QUEUE = 100;

let collector: Recorder;
let sdk: NodeSDK;
const hook = createOtelHook({ labels: { service: 'checkout' } });
const truth = { received: 0, failed: 0, succeeded: 0 };

/** Sits between the hook and the OTLP exporter and counts, independently, what the exporter was given and how it went. */
function counting(inner: SpanExporter): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      truth.received += spans.length;
      inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) truth.succeeded += spans.length;
        else truth.failed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
  };
}

beforeAll(async () => {
  collector = await startRecorder();
  // A collector that refuses every batch: the exporter fails without retrying (400 is permanent).
  collector.answer(() => ({
    status: 400,
    body: '{"code":3,"message":"refused by policy"}',
    headers: { 'content-type': 'application/json' },
  }));
  const exporter = new OTLPTraceExporter({ url: `${collector.url}/v1/traces`, timeoutMillis: 3000 });
  sdk = new NodeSDK({
    serviceName: 'checkout',
    autoDetectResources: false,
    instrumentations: [],
    sampler: hook.sampler(new TraceIdRatioBasedSampler(0.25)),
    spanProcessors: [
      hook.batchSpanProcessor(counting(exporter), { maxQueueSize: QUEUE, maxExportBatchSize: 20, scheduledDelayMillis: 20 }),
    ],
  });
  sdk.start();
});

afterAll(async () => {
  await sdk?.shutdown().catch(() => undefined);
  await collector?.close();
});

const signalValue = (signals: Signal[], name: string) => {
  const s = signals.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no ${name} in ${signals.map((x) => x.name).join(', ')}`);
  return s.value;
};

describe('the in-process OpenTelemetry hook in a NodeSDK', () => {
  it('reports the real sampling ratio, the spans a full queue dropped, and the spans whose export failed', async () => {
    const tracer = trace.getTracer('blindspot-test');
    let sampled = 0;
    // A burst: ended faster than the exporter can take them, so the 100-span queue overflows.
    for (let i = 0; i < STARTED; i++) {
      const span = tracer.startSpan(`op-${i % 7}`);
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) sampled++;
      span.end();
    }
    const during = await hook.probe.collect();
    expect(signalValue(during, 'otel.traces.sampling')).toBeCloseTo(sampled / STARTED, 5);
    // The queue is full right after the burst, and its oldest span is a few milliseconds old at most.
    expect(signalValue(during, 'otel.export.queue_fill')).toBe(1);
    expect(signalValue(during, 'otel.export.queue_age')).toBeLessThan(5);

    // Shutting down flushes everything still queued through the failing exporter; the SDK says so by rejecting.
    await expect(sdk.shutdown()).rejects.toThrow(/Bad Request/);
    // It rejects at the first failed batch; the others are still answering.
    await waitFor('every export to be answered', async () => truth.failed + truth.succeeded === truth.received, 10_000, 20);
    const after = await hook.probe.collect();

    expect(sampled).toBeGreaterThan(STARTED * 0.15);
    expect(truth.succeeded).toBe(0);
    expect(collector.requests.length).toBeGreaterThan(0);
    // Everything sampled either reached the exporter or was dropped by the full queue.
    const dropped = (signalValue(during, 'otel.spans.dropped') ?? 0) + (signalValue(after, 'otel.spans.dropped') ?? 0);
    expect(dropped).toBe(sampled - truth.received);
    expect(dropped).toBeGreaterThan(0);
    const failed = (signalValue(during, 'otel.export.failed') ?? 0) + (signalValue(after, 'otel.export.failed') ?? 0);
    expect(failed).toBe(truth.failed);
    expect(failed).toBe(truth.received);
    // Drained: an empty queue has no age.
    expect(signalValue(after, 'otel.export.queue_fill')).toBe(0);
    expect(signalValue(after, 'otel.export.queue_age')).toBe(0);
    // No span started since: the last measured ratio stands rather than a made-up one.
    expect(signalValue(after, 'otel.traces.sampling')).toBe(signalValue(during, 'otel.traces.sampling'));
    for (const signals of [during, after]) {
      expect(signals.every((s) => s.labels?.service === 'checkout' && s.labels.source === 'otel-sdk')).toBe(true);
      expect(parseHeartbeat({ v: 1, seq: 1, boot: 'b', sent_at: new Date().toISOString(), interval_s: 15, signals }).ok).toBe(true);
    }
  }, 30_000);

  it('says what is missing when the sampler or the processor is not wired', async () => {
    const bare = createOtelHook();
    const signals = await bare.probe.collect();
    expect(signals).toEqual([
      expect.objectContaining({
        name: 'otel.traces.sampling',
        value: null,
        error: expect.stringMatching(/pass hook.sampler\(yourSampler\)/),
      }),
      expect.objectContaining({
        name: 'otel.export.failed',
        value: null,
        error: expect.stringMatching(/use hook.batchSpanProcessor\(exporter\)/),
      }),
    ]);
    bare.sampler(new TraceIdRatioBasedSampler(1));
    expect((await bare.probe.collect())[0]).toMatchObject({ value: null, error: 'no span has been started yet' });
  });
});
