// The silence monitor: hysteresis and flapping on missed deadlines, windows noticed late, goodbyes
// that expire. Virtual time; every number is a second after T0.
import { describe, expect, it } from 'vitest';
import { at, config, Scenario } from './scenario.ts';

const pages = (s: Scenario) => s.notifications().filter((c) => c.type === 'window_opened' || c.type === 'window_paged');

describe('agent silence', () => {
  it('a lossy link (every other heartbeat lost, 31 s apart at a 15 s interval) pages at most once in an hour', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    for (let t = 0; t <= 3600; t += 31) {
      s.alarmsUntil(t);
      s.heartbeat(t, []);
    }
    s.alarmsUntil(3600);
    expect(pages(s)).toHaveLength(1);
    expect(s.windows('window_opened', 'agent')).toHaveLength(1);
  });

  it('the lossy link ends: the one window closes once heartbeats arrive on time again', () => {
    const s = new Scenario(config('{}'), 'a', 15);
    for (let t = 0; t <= 600; t += 31) {
      s.alarmsUntil(t);
      s.heartbeat(t, []);
    }
    for (let t = 615; t <= 1800; t += 15) {
      s.alarmsUntil(t);
      s.heartbeat(t, []);
    }
    s.alarmsUntil(1800);
    expect(s.windows('window_closed', 'agent')).toHaveLength(1);
    expect(s.notifications().map((c) => c.type)).toEqual(['window_opened', 'window_closed']);
  });

  it('a silence no alarm evaluated (the alarm lost, the sweep not yet come) is recorded and paged when the late heartbeat arrives, then resolved', () => {
    // Interval 5, grace 5: due at 5, deadline at 10; nothing evaluates until the heartbeat at 31.
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.heartbeat(31, []);
    expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ startedAt: at(5), confirmedAt: at(10), suppressedBy: null });
    expect(pages(s)).toHaveLength(1);
    s.heartbeat(36, []).heartbeat(41, []);
    expect(s.windows('window_closed', 'agent')).toHaveLength(1);
  });

  it('a heartbeat exactly at its deadline is on time: no window', () => {
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.heartbeat(10, []);
    expect(s.windows('window_opened', 'agent')).toHaveLength(0);
  });

  it('a silence the watchdog noticed 3 minutes late pages once the watchdog is on time, and resolves when the agent returns', () => {
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.alarm(190);
    expect(s.windows('window_opened', 'agent')[0]).toMatchObject({
      startedAt: at(5),
      confirmedAt: at(10),
      suppressedBy: 'watchdog_gap',
      paged: false,
    });
    expect(pages(s)).toHaveLength(0);
    s.alarmsUntil(400);
    const paged = s.windows('window_paged', 'agent');
    expect(paged).toHaveLength(1);
    expect(paged[0]).toMatchObject({ at: 220, suppressedBy: 'watchdog_gap', paged: true });
    s.heartbeat(500, []).heartbeat(505, []);
    expect(s.windows('window_closed', 'agent')[0]).toMatchObject({ endedAt: at(500), paged: true });
  });

  it('while the watchdog stays late, a window it noticed late waits; an agent back before it is on time is never paged', () => {
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.alarm(190).alarm(400);
    expect(pages(s)).toHaveLength(0);
    for (let t = 410; t <= 1000; t += 5) s.alarmsUntil(t).heartbeat(t, []);
    expect(pages(s)).toHaveLength(0);
    expect(s.windows('window_closed', 'agent')).toHaveLength(1);
  });

  it('a goodbye keeps the silence after it quiet, but only for max_stopped_s: then it pages', () => {
    const s = new Scenario(config('silence: { max_stopped_s: 3600 }')).heartbeat(0, [], { stopping: true });
    s.alarmsUntil(3599);
    expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ cause: 'agent_stopped', suppressedBy: 'agent_stopped', paged: false });
    expect(pages(s)).toHaveLength(0);
    expect(s.live?.state).toBe('stopped');
    s.alarmsUntil(3700);
    expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 3600, cause: 'agent_stopped', suppressedBy: null })]);
  });

  it('a goodbye followed by a restart on time pages nothing', () => {
    const s = new Scenario(config('{}')).heartbeat(0, [], { stopping: true });
    s.alarmsUntil(60);
    for (let t = 60; t <= 3600; t += 5) s.alarmsUntil(t).heartbeat(t, [], { boot: 'b2' });
    expect(pages(s)).toHaveLength(0);
    expect(s.windows('window_closed', 'agent')).toEqual([expect.objectContaining({ endedAt: at(60) })]);
  });

  it('a goodbye, a restart, then a silence: the stop window ends at the restart, and the silence is its own window that pages', () => {
    const s = new Scenario(config('{}')).heartbeat(0, [], { stopping: true });
    s.alarmsUntil(60);
    s.alarmsUntil(60).heartbeat(60, [], { boot: 'b2' });
    expect(s.windows('window_closed', 'agent')).toEqual([expect.objectContaining({ cause: 'agent_stopped', endedAt: at(60) })]);
    s.alarmsUntil(200);
    expect(s.windows('window_opened', 'agent').map((w) => w.cause)).toEqual(['agent_stopped', 'agent_silent']);
    expect(pages(s).map((c) => c.window.cause)).toEqual(['agent_silent']);
  });

  it('recover_for and flapping of the silence are configurable', () => {
    const s = new Scenario(config('silence: { recover_for: { heartbeats: 1 } }')).heartbeat(0, []);
    s.alarmsUntil(30);
    s.heartbeat(30, []);
    expect(s.windows('window_closed', 'agent')).toEqual([expect.objectContaining({ endedAt: at(30) })]);
  });
});

describe('silence window ids', () => {
  it('a flapping window opened after a window closed never takes its id (nor its page and resolve)', () => {
    // Missed, back for two heartbeats (the window closes), missed again, ...: the flips that made
    // the first window are among those that start the flapping one. With an odd number of
    // transitions the flapping starts on a miss while no window is open (with the default 6, the
    // same happens once the oldest flip falls out of the flapping period).
    const s = new Scenario(config('silence: { flapping: { transitions: 5 } }')).heartbeat(0, []);
    for (let t = 5; t <= 600; t += 5) {
      s.alarmsUntil(t);
      if ((t / 5) % 4 !== 1 && (t / 5) % 4 !== 2) s.heartbeat(t, []);
    }
    const opened = s.windows('window_opened', 'agent');
    expect(opened.map((w) => w.cause)).toContain('flapping');
    expect(new Set(opened.map((w) => w.id)).size).toBe(opened.length);
  });
});
