// A simulated healthy stack for `npm start` and trying the product out. Every signal it sends carries
// the label simulated="true" so nobody mistakes it for a measurement. Its signals are named as the
// real probes name theirs, so the bundled blindspot.config.yaml finds evidence for each of its
// components (metrics, alert path, tracing) and the demo's page can say "operational" with proof.
import type { Signal } from '../../protocol/heartbeat.ts';
import type { Probe } from './probe.ts';

export function demoProbe(options: { name: string; labels: Record<string, string>; random?: () => number }): Probe {
  const random = options.random ?? Math.random;
  const labels = { source: 'demo', simulated: 'true', ...options.labels };
  const jitter = (low: number, high: number) => Math.round((low + random() * (high - low)) * 1000) / 1000;
  const n = options.name;
  return {
    name: n,
    async collect(): Promise<Signal[]> {
      return [
        // Metrics pipeline: Prometheus answers, and what it stores is fresh.
        { name: `${n}.prometheus.up`, kind: 'freshness', value: jitter(0, 1), unit: 's', error: null, labels },
        { name: `${n}.metrics.freshness`, kind: 'freshness', value: jitter(1, 8), unit: 's', error: null, labels },
        // Alert path: Alertmanager answers, refuses no alert and loses no notification.
        { name: `${n}.alertmanager.up`, kind: 'freshness', value: jitter(0, 1), unit: 's', error: null, labels },
        { name: `${n}.alerts.invalid`, kind: 'dropped', value: 0, unit: 'alerts', error: null, labels },
        { name: `${n}.notifications.failed`, kind: 'dropped', value: 0, unit: 'notifications', error: null, labels },
        // Tracing: about one trace in ten sampled, the exporters' queues nearly empty.
        { name: `${n}.traces.sampling`, kind: 'sampling', value: jitter(0.09, 0.11), unit: 'ratio', error: null, labels },
        { name: `${n}.export.queue_fill`, kind: 'saturation', value: jitter(0, 0.05), unit: 'ratio', error: null, labels },
      ];
    },
  };
}
