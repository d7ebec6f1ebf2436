// One owner of a Durable Object's one physical alarm. Each part (the engine's timers, the outbox's
// retries and reminders, the replication queue) reports when it next needs to run; rearm() sets the
// alarm at the earliest of them, or clears it.
export type DueTime = () => number | null;

/** A part due now or in the past runs a second from now at the earliest: a row that stays due cannot spin the alarm. */
const MIN_SPACING_MS = 1_000;

export class AlarmScheduler {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly parts: Record<string, DueTime>,
    private readonly immediate: readonly string[] = [],
  ) {}

  /** What each part asks for (tests and /healthz show it). */
  plan(): Record<string, number | null> {
    return Object.fromEntries(Object.entries(this.parts).map(([name, due]) => [name, due()]));
  }

  async rearm(now: number): Promise<void> {
    const times: number[] = [];
    let overdue = false;
    for (const [name, due] of Object.entries(this.parts)) {
      const at = due();
      if (at === null) continue;
      // The engine's deadline is exact; the others are held off a second so a stuck row cannot loop.
      if (this.immediate.includes(name)) times.push(at);
      else {
        times.push(Math.max(at, now + MIN_SPACING_MS));
        overdue ||= at <= now;
      }
    }
    if (times.length === 0) return void (await this.storage.deleteAlarm());
    const at = Math.max(Math.min(...times), now + 1);
    // A part already due keeps the alarm that was set for it: re-arming "a second from now" on every
    // call would push it back for ever while calls come faster than that (a heartbeat every second).
    const current = await this.storage.getAlarm();
    if (overdue && current !== null && current > now && current <= at) return;
    // Most decisions leave the earliest time where it was: no write then.
    if (current !== at) await this.storage.setAlarm(at);
  }

  /** A send in flight holds a lease until then: make sure the alarm comes by then. */
  async notLaterThan(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.storage.setAlarm(at);
  }
}
