import { describe, expect, it } from 'vitest';
import { MAX_ROUND_TRIP_MS, WorkerClock } from '../../agent/transport/worker-clock.ts';

const T = Date.parse('2026-11-22T10:00:00.000Z');
const httpDate = (ms: number) => new Date(ms).toUTCString();

describe("the Worker's clock, as the agent learns it", () => {
  it("keeps its own clock while the two agree within Date's one-second resolution and the round trip", () => {
    const clock = new WorkerClock(() => T);
    expect(clock.observe(httpDate(T + 1_400), T, T + 200)).toBe(false);
    expect(clock.offsetMs).toBe(0);
    expect(clock.now()).toBe(T);
  });

  it("takes the Worker's time when the agent is 10 minutes ahead or behind, to within a second", () => {
    for (const skew of [600_000, -600_000]) {
      const changes: number[] = [];
      const local = T + skew;
      const clock = new WorkerClock(
        () => local,
        (offset) => changes.push(offset),
      );
      // The Worker's clock reads T (its Date header says the second of T) halfway through a 200 ms round trip.
      expect(clock.observe(httpDate(T), local - 100, local + 100)).toBe(true);
      expect(Math.abs(clock.now() - T)).toBeLessThanOrEqual(1000);
      expect(changes).toHaveLength(1);
      // The same answer again changes nothing.
      expect(clock.observe(httpDate(T), local - 100, local + 100)).toBe(false);
    }
  });

  it('goes back to its own clock once the host is fixed, and says so', () => {
    const changes: [number, number][] = [];
    let local = T + 600_000;
    const clock = new WorkerClock(
      () => local,
      (offset, previous) => changes.push([offset, previous]),
    );
    clock.observe(httpDate(T), local, local);
    local = T;
    expect(clock.observe(httpDate(T), local, local)).toBe(true);
    expect(clock.offsetMs).toBe(0);
    expect(changes.at(-1)?.[0]).toBe(0);
    expect(changes.at(-1)?.[1]).toBeLessThan(-590_000);
  });

  it('ignores a missing, unreadable or impossible Date', () => {
    const clock = new WorkerClock(() => T);
    expect(clock.observe(null, T, T)).toBe(false);
    expect(clock.observe('yesterday-ish', T, T)).toBe(false);
    expect(clock.observe(httpDate(T + 600_000), T + 10, T)).toBe(false);
    expect(clock.offsetMs).toBe(0);
  });

  it('learns nothing from an answer that took longer than MAX_ROUND_TRIP_MS: its Date could be from anywhere in it', () => {
    // A request held through a cut link, answered 20 s after it was sent: the midpoint is 10 s off.
    const local = T + 600_000;
    const clock = new WorkerClock(() => local);
    expect(clock.observe(httpDate(T + 20_000), local - 20_000, local)).toBe(false);
    expect(clock.offsetMs).toBe(0);
    // The next answer that came back quickly is taken.
    expect(clock.observe(httpDate(T), local - 100, local + 100)).toBe(true);
    expect(Math.abs(clock.now() - T)).toBeLessThanOrEqual(1000);
    // At the bound, still taken.
    const edge = new WorkerClock(() => local);
    expect(edge.observe(httpDate(T), local - MAX_ROUND_TRIP_MS / 2, local + MAX_ROUND_TRIP_MS / 2)).toBe(true);
  });
});
