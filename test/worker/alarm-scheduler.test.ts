// The one alarm of an object: a part already due is not pushed back by calls that keep coming.
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { AlarmScheduler } from '../../worker/durable/alarm-scheduler.ts';
import { agentStub } from './fixtures/durable.ts';
import { DAY_AHEAD } from './fixtures/simulated.ts';

describe('the alarm scheduler', () => {
  it('keeps the alarm set for an overdue retry while heartbeats re-arm it every half second', async () => {
    await runInDurableObject(agentStub('alarm-starve'), async (_instance, state) => {
      const t = DAY_AHEAD;
      let deadline = t + 3000;
      // The outbox has a row due since before t; the engine's deadline moves with each heartbeat.
      const scheduler = new AlarmScheduler(state.storage, { engine: () => deadline, outbox: () => t - 5000 }, ['engine']);
      await scheduler.rearm(t);
      expect(await state.storage.getAlarm()).toBe(t + 1000);
      for (const now of [t + 500, t + 900]) {
        deadline = now + 3000;
        await scheduler.rearm(now);
      }
      // Still due at t + 1 s: it was not pushed to 1 s after the last call.
      expect(await state.storage.getAlarm()).toBe(t + 1000);
      // Once it has fired (the platform clears it), the next call arms it again.
      await state.storage.deleteAlarm();
      await scheduler.rearm(t + 1000);
      expect(await state.storage.getAlarm()).toBe(t + 2000);
    });
  });

  it('still moves the engine deadline later when nothing else is due', async () => {
    await runInDurableObject(agentStub('alarm-deadline'), async (_instance, state) => {
      const t = DAY_AHEAD;
      let deadline = t + 3000;
      const scheduler = new AlarmScheduler(state.storage, { engine: () => deadline, outbox: () => null }, ['engine']);
      await scheduler.rearm(t);
      deadline = t + 4000;
      await scheduler.rearm(t + 1000);
      expect(await state.storage.getAlarm()).toBe(t + 4000);
    });
  });
});
