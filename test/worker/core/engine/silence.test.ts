// The silence monitor: hysteresis and flapping on missed deadlines, windows noticed late, goodbyes
// that expire. Virtual time; every number is a second after T0.
import { describe, expect, it } from 'vitest';
import { nextDueAt } from '../../../../worker/core/evaluate.ts';
import { at, config, Scenario } from './scenario.ts';

const subject = { kind: 'agent' as const, id: 'a', component: 'monitoring' };

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

  describe('a watchdog held up (its alarm or sweep more than 250 ms past the deadline) waits 5 s for heartbeats queued behind it', () => {
    // Interval 5, grace 5: heartbeat 1 at 0, due at 5, deadline at 10. The Worker stalls from 3 to 50:
    // heartbeat 2, sent at 5, waits in its queue and is taken at 50.2, after the late alarm at 50.
    it('one sent in time ends the wait: the agent was never silent, nothing is recorded or paged', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(50);
      expect(s.changes).toHaveLength(1);
      expect(s.live?.state).toBe('up');
      expect(nextDueAt(s.live!, subject, s.cfg, at(50))).toBe(at(55));
      s.heartbeat(50.2, [], { sentAtOffsetS: -45.2 });
      for (let t = 55; t <= 120; t += 5) s.alarmsUntil(t).heartbeat(t, []);
      expect(s.windows('window_opened', 'agent')).toHaveLength(0);
      expect(pages(s)).toHaveLength(0);
    });

    it('the agent really silent: the evaluation after the wait pages, from when the missing heartbeat was due', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(50);
      expect(pages(s)).toHaveLength(0);
      s.alarmsUntil(60);
      expect(s.windows('window_opened', 'agent')).toEqual([
        expect.objectContaining({ at: 55, startedAt: at(5), confirmedAt: at(10), suppressedBy: null, paged: true }),
      ]);
      // The wait was the alarm's, once: later evaluations do not wait again.
      expect(pages(s)).toHaveLength(1);
    });

    it('with its alarms lost, the next sweep after the wait pages', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(40).alarm(100);
      expect(s.windows('window_paged', 'agent')).toHaveLength(0);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 100, startedAt: at(5), suppressedBy: null, paged: true });
    });

    it('the next heartbeat, sent after the deadline, in the wait: the agent itself sent nothing meanwhile, so its silence pages as with no stall, then resolves', () => {
      // Heartbeat 2 is sent at 52: no heartbeat of the agent's timed out against the stalled Worker (it
      // would have been spooled, and this one would not be the next).
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(50).heartbeat(52, []);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 52, startedAt: at(5), suppressedBy: null, paged: true });
      s.heartbeat(57, []).alarmsUntil(66);
      expect(s.windows('window_closed', 'agent')).toHaveLength(1);
      expect(s.notifications().map((c) => c.type)).toEqual(['window_opened', 'window_closed']);
    });

    it('a heartbeat sent after the deadline, after the wait (its alarm lost): the silence pages, then it resolves', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(50).heartbeat(56, []);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 56, startedAt: at(5), suppressedBy: null, paged: true });
      s.heartbeat(61, []);
      expect(s.windows('window_closed', 'agent')).toHaveLength(1);
    });

    it("one in the wait that is not the next (those before it timed out and were spooled): the watchdog's own gap, recorded and not paged", () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      for (let i = 0; i < 8; i++) s.spooled();
      s.alarm(50).heartbeat(50.2, [], { sentAtOffsetS: -1.2 });
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ startedAt: at(5), suppressedBy: 'watchdog_gap', paged: false });
      s.alarmsUntil(55).heartbeat(55, []).alarmsUntil(64);
      expect(s.windows('window_closed', 'agent')[0]).toMatchObject({ endedAt: at(50.2), paged: false });
      expect(s.notifications()).toHaveLength(0);
    });

    it('one in time that is not the next, taken after the wait: the silence pages', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.spooled();
      s.heartbeat(30, [], { sentAtOffsetS: -22 });
      expect(pages(s)).toHaveLength(1);
    });

    it("one whose agent's clock went back (it reads in time only because the clock was stepped) does not hide the silence", () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.heartbeat(30, [], { sentAtOffsetS: -40 });
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 30, paged: true });
    });

    it('an alarm run twice does not cut the wait short, nor begin it again', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(50).alarm(50).alarm(53);
      expect(pages(s)).toHaveLength(0);
      expect(nextDueAt(s.live!, subject, s.cfg, at(53))).toBe(at(55));
      s.alarm(55);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 55, paged: true });
    });

    it('an alarm on time (at most 250 ms past the deadline) waits 250 ms, then pages: the window starts when the heartbeat was due', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(10.25);
      expect(pages(s)).toHaveLength(0);
      expect(nextDueAt(s.live!, subject, s.cfg, at(10.25))).toBe(at(10.5));
      s.alarm(10.5);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ at: 10.5, startedAt: at(5), suppressedBy: null, paged: true });
    });

    it('a Worker frozen until just after the deadline: its alarm, on time as it seems, waits for the heartbeat the freeze held, sent in time', () => {
      // The Worker freezes from 8 to 10.1: heartbeat 2, sent at 5, is taken at 10.2, after the alarm at 10.1.
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(10.1);
      s.heartbeat(10.2, [], { sentAtOffsetS: -5.2 });
      for (let t = 15; t <= 60; t += 5) s.alarmsUntil(t).heartbeat(t, []);
      expect(s.windows('window_opened', 'agent')).toHaveLength(0);
      expect(pages(s)).toHaveLength(0);
    });

    it('a heartbeat late by itself within that wait still ends a silence that pages: the watchdog was on time', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(10.1);
      s.heartbeat(10.3, []);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ startedAt: at(5), suppressedBy: null, paged: true });
    });

    it('a Worker frozen for a few seconds: its alarm, 1 s late, waits for the heartbeat the freeze held, sent in time', () => {
      // The Worker freezes from 8 to 11: heartbeat 2, sent at 5, is taken at 11.1, after the alarm at 11.
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(11);
      expect(pages(s)).toHaveLength(0);
      s.heartbeat(11.1, [], { sentAtOffsetS: -6.1 });
      for (let t = 15; t <= 60; t += 5) s.alarmsUntil(t).heartbeat(t, []);
      expect(s.windows('window_opened', 'agent')).toHaveLength(0);
      expect(pages(s)).toHaveLength(0);
    });

    it("a Worker restarted: the wait lasts half the agent's interval and a second when that is longer, as far apart as its retries come", () => {
      // Interval 15, grace 15: heartbeat 1 at 0, deadline at 30. The Worker is down from 20 to 40:
      // heartbeat 2 (15) was spooled; heartbeat 3 (sent at 30) is retried, and taken at 47.
      const s = new Scenario(config('{}'), 'a', 15).heartbeat(0, []);
      s.spooled();
      s.alarm(40);
      expect(nextDueAt(s.live!, subject, s.cfg, at(40))).toBe(at(48.5));
      s.alarm(45).heartbeat(47, [], { sentAtOffsetS: -17 });
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ startedAt: at(15), suppressedBy: 'watchdog_gap', paged: false });
      for (let t = 60; t <= 120; t += 15) s.alarmsUntil(t).heartbeat(t, []);
      expect(s.windows('window_closed', 'agent')).toHaveLength(1);
      expect(s.notifications()).toHaveLength(0);
    });

    it('the wait is at most a minute, however long the interval: a really silent agent is paged then', () => {
      // Interval 600, grace 600: heartbeat 1 at 0, deadline at 1200; the alarm runs 10 s late.
      const s = new Scenario(config('{}'), 'a', 600).heartbeat(0, []);
      s.alarm(1210);
      expect(nextDueAt(s.live!, subject, s.cfg, at(1210))).toBe(at(1270));
      expect(pages(s)).toHaveLength(0);
      s.alarm(1270);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ startedAt: at(600), suppressedBy: null, paged: true });
    });

    it('a stall of more than 2 minutes is the watchdog noticing late, as before: recorded, not paged, no wait', () => {
      const s = new Scenario(config('{}')).heartbeat(0, []);
      s.alarm(190);
      expect(s.windows('window_opened', 'agent')[0]).toMatchObject({ suppressedBy: 'watchdog_gap', paged: false });
    });
  });

  it('a heartbeat after the deadline that no alarm evaluated, sent in time (it waited on its way), ends no silence', () => {
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.heartbeat(14, [], { sentAtOffsetS: -6 });
    expect(s.windows('window_opened', 'agent')).toHaveLength(0);
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
