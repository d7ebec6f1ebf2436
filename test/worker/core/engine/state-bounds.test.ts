// Live state stays bounded under label churn and fresh signal names, and a heartbeat that would pass
// the bound is refused by name. Virtual time.
import { describe, expect, it } from 'vitest';
import { AUTO_RETIRE_MS, MAX_BASELINE_SERIES, MAX_INSTANCES, StateLimitError } from '../../../../worker/core/state-limits.ts';
import { config, Scenario, sig } from './scenario.ts';

const KIB = 1024;
const stateBytes = (s: Scenario) => new TextEncoder().encode(JSON.stringify(s.live)).length;
const missingSignalPages = (s: Scenario) => s.notifications().filter((c) => 'window' in c && c.window.cause === 'missing_signal');

describe('bounded live state', () => {
  it('64 fresh signal names in every heartbeat for an hour: instances stay within the cap, no page for a vanished name, state under 256 KiB', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    let largest = 0;
    for (let t = 0, i = 0; t <= 3600; t += 15, i++) {
      s.alarmsUntil(t);
      s.heartbeat(
        t,
        Array.from({ length: 64 }, (_, k) => sig(`churn.${i}.${k}`, 'freshness', 1)),
      );
      largest = Math.max(largest, stateBytes(s));
      expect(Object.keys(s.live!.monitors).length).toBeLessThanOrEqual(MAX_INSTANCES);
    }
    expect(missingSignalPages(s)).toEqual([]);
    expect(largest).toBeLessThan(256 * KIB);
  });

  it('24 hours of hourly pod churn keeps baselines and state bounded', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    let largest = 0;
    for (let t = 0; t <= 24 * 3600; t += 15) {
      const pod = `pod-${Math.floor(t / 3600)}`;
      s.alarmsUntil(t);
      s.heartbeat(t, [sig('traces.sampling', 'sampling', 0.5, { pod }), sig('metrics.freshness', 'freshness', 5, { pod })]);
      if (t % 3600 === 0) largest = Math.max(largest, stateBytes(s));
    }
    const baselines = s.monitor('auto:traces.sampling').baselines;
    expect(Object.keys(baselines).length).toBeLessThanOrEqual(2);
    expect(Object.keys(baselines).length).toBeLessThanOrEqual(MAX_BASELINE_SERIES);
    expect(largest).toBeLessThan(64 * KIB);
    expect(s.notifications()).toEqual([]);
  });

  it('an implicit monitor whose signal vanished is retired quietly after a while; its open window closes', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    s.heartbeat(0, [sig('x.freshness', 'freshness', null)]).heartbeat(15, [sig('x.freshness', 'freshness', null)]);
    expect(s.windows('window_opened', 'auto:x.freshness')).toHaveLength(1);
    for (let t = 30; t <= 30 + AUTO_RETIRE_MS / 1000 + 15; t += 15) s.alarmsUntil(t).heartbeat(t, []);
    expect(s.live!.monitors['auto:x.freshness']).toBeUndefined();
    expect(s.windows('window_closed', 'auto:x.freshness')).toHaveLength(1);
    expect(missingSignalPages(s)).toEqual([]);
  });

  it('a configured monitor whose signal vanished still goes blind (missing_signal)', () => {
    const s = new Scenario(config('monitors: [{ id: metrics, signal: metrics.freshness }]'), 'a', 15);
    s.heartbeat(0, [sig('metrics.freshness', 'freshness', 1)]);
    for (let t = 15; t <= 60; t += 15) s.heartbeat(t, []);
    expect(missingSignalPages(s)).toHaveLength(1);
  });

  it('a heartbeat that would pass the instance cap is refused with the limit named, and the state is left as it was', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    const batch = (set: number) => Array.from({ length: 64 }, (_, k) => sig(`set${set}.${k}`, 'freshness', null));
    let t = 0;
    for (let set = 0; set < 3; set++) {
      s.heartbeat(t, batch(set));
      s.heartbeat((t += 15), batch(set));
      t += 15;
    }
    const before = structuredClone(s.live);
    let error: unknown;
    try {
      s.heartbeat(t, batch(3));
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateLimitError);
    expect((error as StateLimitError).limit).toBe('max_instances');
    expect((error as Error).message).toMatch(/limit is 200 per agent/);
    expect(s.live).toEqual(before);
  });
});
