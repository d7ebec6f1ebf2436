// What an agent's object reads from D1 itself, as a cache: the admin API's maintenance windows and
// silences, and which channels an operator disabled or enabled. Read every few minutes or when told;
// a D1 that fails or hangs keeps the last copy (detection and paging never wait for it). The last copy
// is kept in the object's own storage too (those that name its agent, or all of them until it knows
// its agent): an object reset while D1 is away still knows an operator's silence, and does not page
// what the operator silenced.
import type { Maintenance } from '../../config/resolve.ts';
import { engineMaintenance } from '../core/notices.ts';
import { matchesGlob } from '../core/glob.ts';
import type { Db } from '../store/db.ts';
import { channelStates } from '../store/deliveries.ts';
import { pendingPauses } from '../store/notices.ts';
import { getMeta, setMeta } from '../store/object-live.ts';
import { replaceDisabledChannels } from '../store/object-outbox.ts';
import { within } from './clock.ts';

const REFRESH_MS = 5 * 60_000;
/** Where the last copy read is kept in the object's storage. */
const KEPT_KEY = 'admin_pauses';
/** A read that fails is tried again this much sooner than a full refresh period. */
const RETRY_AFTER_FAILURE_MS = 30_000;
/** D1 reads wait at most this long. */
export const D1_WAIT_MS = 1500;

export class AdminPauses {
  maintenance: Maintenance[];
  /** A new instance reads D1 at its first chance, and goes by the copy kept in storage until then. */
  private readAt = Number.NEGATIVE_INFINITY;
  /** When the admin API's last reading handed over was read (real time): an older one is not taken over it. */
  private adoptedAt = Number.NEGATIVE_INFINITY;
  /** Whose copy storage holds: null until the object knew its agent when it kept one. */
  private keptFor: string | null = null;

  constructor(
    /** The D1 read: a seam, so the simulator can make it refuse (as the replicator's). */
    public db: Db,
    private readonly sql: SqlStorage,
    private readonly countRead: () => void,
    /** The agent (or source) this object watches; null while it has never been heard. */
    private readonly subject: () => string | null = () => null,
  ) {
    this.maintenance = keptPauses(sql);
  }

  /**
   * The admin API's own reading, handed over as it told of a change (read at `at`, after its write):
   * taken unless a later reading is already held, and kept as a read from D1 is.
   */
  adopt(told: { maintenance: Maintenance[]; at: number }): void {
    if (told.at < this.adoptedAt) return;
    this.adoptedAt = told.at;
    this.keep(told.maintenance);
  }

  /** After a decision: a copy kept before the object knew its agent (its first heartbeat) is kept again, for that agent. */
  heard(): void {
    if (this.keptFor === null && this.subject() !== null) this.keep(this.maintenance);
  }

  async refresh(now: number, force = false): Promise<void> {
    if (!force && now - this.readAt < REFRESH_MS) return;
    try {
      this.countRead();
      const read = await withinD1Wait(Promise.all([pendingPauses(this.db, now), channelStates(this.db)]));
      this.keep(engineMaintenance(read[0]));
      replaceDisabledChannels(
        this.sql,
        read[1].flatMap((c) => (c.disabled_at === null ? [] : [{ channel: c.channel_id, at: c.disabled_at, reason: c.disabled_reason }])),
      );
      this.readAt = now;
    } catch (e: unknown) {
      console.error('could not read maintenance, silences and channel state from D1; keeping the last ones read:', e);
      this.readAt = now - REFRESH_MS + RETRY_AFTER_FAILURE_MS;
    }
  }

  /**
   * Holds `maintenance`, and keeps in storage those that name this object's agent; all of them while
   * it does not know its agent (told before the first heartbeat: a reset before that heartbeat must
   * not lose them). At most what one read returns (pendingPauses: 500), until heard() narrows it.
   */
  private keep(maintenance: Maintenance[]): void {
    this.maintenance = maintenance;
    const id = this.subject();
    this.keptFor = id;
    const mine = id === null ? maintenance : maintenance.filter((m) => m.agents.some((g) => matchesGlob(g, id)));
    const text = JSON.stringify(mine);
    if (text !== getMeta(this.sql, KEPT_KEY)) setMeta(this.sql, KEPT_KEY, text);
  }
}

/** The copy kept in storage; none if there is none or it cannot be read. */
function keptPauses(sql: SqlStorage): Maintenance[] {
  try {
    const parsed: unknown = JSON.parse(getMeta(sql, KEPT_KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as Maintenance[]) : [];
  } catch {
    return [];
  }
}

/** Bounded: a D1 that hangs must not hold a heartbeat or an alarm. */
export function withinD1Wait<T>(work: Promise<T>): Promise<T> {
  return within(work, D1_WAIT_MS, 'D1');
}
