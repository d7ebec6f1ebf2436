// A simulated healthy stack for `npm start` and trying the product out. Every signal it sends carries
// the label simulated="true" so nobody mistakes it for a measurement.
import type { Signal } from '../../protocol/heartbeat.ts';
import type { Probe } from './probe.ts';

export function demoProbe(options: { name: string; labels: Record<string, string>; random?: () => number }): Probe {
  const random = options.random ?? Math.random;
  const labels = { source: 'demo', simulated: 'true', ...options.labels };
  const jitter = (low: number, high: number) => Math.round((low + random() * (high - low)) * 1000) / 1000;
  return {
    name: options.name,
    async collect(): Promise<Signal[]> {
      return [
        { name: `${options.name}.metrics.freshness`, kind: 'freshness', value: jitter(1, 8), unit: 's', error: null, labels },
        { name: `${options.name}.traces.sampling`, kind: 'sampling', value: jitter(0.09, 0.11), unit: 'ratio', error: null, labels },
        { name: `${options.name}.alerts.dropped`, kind: 'dropped', value: 0, unit: 'alerts', error: null, labels },
        { name: `${options.name}.export.queue_age`, kind: 'queue_age', value: jitter(0, 2), unit: 's', error: null, labels },
      ];
    },
  };
}
