// In-process OpenTelemetry hook: what an application's tracing SDK really does, as Blindspot signals.
//
//   const hook = createOtelHook();
//   const sdk = new NodeSDK({
//     sampler: hook.sampler(new TraceIdRatioBasedSampler(0.1)),
//     spanProcessors: [hook.batchSpanProcessor(new OTLPTraceExporter(), { maxQueueSize: 2048 })],
//   });
//   sdk.start();
//   await startEmbeddedAgent({ configFile: 'blindspot-agent.yaml', probes: [hook.probe] });
//
// It reports the effective sampling ratio (sampled / started, from the sampler's own decisions), spans
// in failed exports, spans the batch processor dropped because its queue was full (the SDK only logs
// those), how full the queue is and how old its oldest span. The hot path is a few counter updates and
// one clock read per sampled span; see bench/otel-hook.ts.
import { type Attributes, type Context, type Link, type SpanKind, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type BufferConfig,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Signal } from '../../protocol/heartbeat.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { type Logger, stderrLogger } from '../log.ts';
import { runAgent } from '../main.ts';
import { base, measured, type Probe, unknownSignal } from '../probes/probe.ts';

/** The BatchSpanProcessor's default queue size, as the SDK documents it. */
const SDK_DEFAULT_QUEUE = 2048;

export interface OtelHookOptions {
  /** Prefix of the signal names; default "otel". */
  name?: string;
  labels?: Record<string, string>;
  /** Clock in milliseconds; default performance.now. */
  now?: () => number;
}

export interface OtelCounts {
  started: number;
  sampled: number;
  exportedOk: number;
  exportFailed: number;
  queueDropped: number;
  queued: number;
  capacity: number;
  oldestQueuedAgeMs: number | null;
}

export interface OtelHook {
  /** Wraps the application's sampler to count its decisions. */
  sampler(inner: Sampler): Sampler;
  /** A BatchSpanProcessor around `exporter`, watched: drops, failures, queue fill and age. */
  batchSpanProcessor(exporter: SpanExporter, config?: BufferConfig): SpanProcessor;
  /** The probe to give the agent: one heartbeat's worth of the counts, as signals. */
  readonly probe: Probe;
  /** Totals since the hook was made (for tests and debugging). */
  counts(): OtelCounts;
}

export function createOtelHook(options: OtelHookOptions = {}): OtelHook {
  const now = options.now ?? performance.now.bind(performance);
  const n = options.name ?? 'otel';
  const labels = { source: 'otel-sdk', ...options.labels };
  let started = 0;
  let sampled = 0;
  let exportedOk = 0;
  let exportFailed = 0;
  let queueDropped = 0;
  // A mirror of the batch processor's queue: the time each queued span ended, oldest first, in a ring.
  let capacity = 0;
  let ring = new Float64Array(0);
  let head = 0;
  let depth = 0;
  let samplerWrapped = false;

  const sampler = (inner: Sampler): Sampler => {
    samplerWrapped = true;
    return {
      shouldSample(
        context: Context,
        traceId: string,
        spanName: string,
        spanKind: SpanKind,
        attributes: Attributes,
        links: Link[],
      ): SamplingResult {
        const result = inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
        started++;
        if (result.decision === SamplingDecision.RECORD_AND_SAMPLED) sampled++;
        return result;
      },
      toString: () => `BlindspotCounting{${inner.toString()}}`,
    };
  };

  const exporterOf = (inner: SpanExporter): SpanExporter => ({
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      // The batch processor hands a batch over by taking it off its queue: the mirror does the same.
      const taken = Math.min(spans.length, depth);
      head = (head + taken) % (capacity || 1);
      depth -= taken;
      inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) exportedOk += spans.length;
        else exportFailed += spans.length;
        resultCallback(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  });

  const batchSpanProcessor = (exporter: SpanExporter, config: BufferConfig = {}): SpanProcessor => {
    if (capacity !== 0) throw new Error('createOtelHook: one batchSpanProcessor per hook (make a second hook with another name)');
    capacity = config.maxQueueSize ?? SDK_DEFAULT_QUEUE;
    ring = new Float64Array(capacity);
    const inner = new BatchSpanProcessor(exporterOf(exporter), config);
    return {
      onStart: (span: Span, parentContext: Context) => inner.onStart(span, parentContext),
      onEnd(span: ReadableSpan): void {
        // Exactly the batch processor's rule: unsampled spans are ignored, a full queue drops the span.
        if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
          if (depth >= capacity) queueDropped++;
          else {
            ring[(head + depth) % capacity] = now();
            depth++;
          }
        }
        inner.onEnd(span);
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
    };
  };

  const counts = (): OtelCounts => ({
    started,
    sampled,
    exportedOk,
    exportFailed,
    queueDropped,
    queued: depth,
    capacity,
    oldestQueuedAgeMs: depth > 0 ? Math.max(0, now() - (ring[head] ?? now())) : null,
  });

  // Per heartbeat: what happened since the previous one.
  let last = { started: 0, sampled: 0, exportFailed: 0, queueDropped: 0 };
  let lastRatio: number | null = null;
  const probe: Probe = {
    name: n,
    type: 'otel_hook',
    async collect(): Promise<Signal[]> {
      const c = counts();
      const d = {
        started: c.started - last.started,
        sampled: c.sampled - last.sampled,
        exportFailed: c.exportFailed - last.exportFailed,
        queueDropped: c.queueDropped - last.queueDropped,
      };
      last = { started: c.started, sampled: c.sampled, exportFailed: c.exportFailed, queueDropped: c.queueDropped };
      // An idle interval says nothing new about sampling: the last measured ratio stands.
      if (d.started > 0) lastRatio = d.sampled / d.started;
      const sampling = base(`${n}.traces.sampling`, 'sampling', 'ratio', labels);
      const out: Signal[] = [
        !samplerWrapped
          ? unknownSignal(sampling, 'the sampler is not wrapped: pass hook.sampler(yourSampler) to the SDK to measure the sampling ratio')
          : lastRatio === null
            ? unknownSignal(sampling, 'no span has been started yet')
            : measured(sampling, lastRatio),
      ];
      if (c.capacity === 0) {
        out.push(
          unknownSignal(
            base(`${n}.export.failed`, 'dropped', 'spans', labels),
            'no span processor is watched: use hook.batchSpanProcessor(exporter) in the SDK',
          ),
        );
        return out;
      }
      out.push(
        measured(base(`${n}.export.failed`, 'dropped', 'spans', labels), d.exportFailed),
        measured(base(`${n}.spans.dropped`, 'dropped', 'spans', labels), d.queueDropped),
        measured(base(`${n}.export.queue_fill`, 'saturation', 'ratio', labels), c.queued / c.capacity),
        measured(base(`${n}.export.queue_age`, 'queue_age', 's', labels), (c.oldestQueuedAgeMs ?? 0) / 1000),
      );
      return out;
    },
  };

  return { sampler, batchSpanProcessor, probe, counts };
}

export interface EmbeddedAgentOptions {
  /** The agent's configuration file; default $BLINDSPOT_CONFIG or ./blindspot-agent.yaml. */
  configFile?: string;
  /** Probes built in code, e.g. [hook.probe]; they join the configured ones. */
  probes: Probe[];
  log?: Logger;
}

/**
 * Runs the heartbeat loop inside the application, so the hook's signals travel in the same signed
 * heartbeats as the configured probes'. Resolves once started; stop() sends the stopping heartbeat.
 */
export async function startEmbeddedAgent(options: EmbeddedAgentOptions): Promise<{ stop(): Promise<void> }> {
  const path = options.configFile ?? process.env.BLINDSPOT_CONFIG ?? 'blindspot-agent.yaml';
  let config;
  try {
    config = loadConfig(path);
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw new Error(`blindspot: ${e.message}`);
    throw e;
  }
  const controller = new AbortController();
  const done = runAgent(config, options.log ?? stderrLogger, controller.signal, { probes: options.probes });
  return {
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}
