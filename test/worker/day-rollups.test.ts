// The agents' day rows: what a flush adds to D1 (one row per agent and day, seconds summed and
// signal statistics merged by D1 itself, once per flush however often it is sent), and the
// migration that folded the old hourly tables in.
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { RollupFlush, StateSeconds } from '../../worker/core/rollup.ts';
import { createDb, runBatch } from '../../worker/store/db.ts';
import { writeRollups } from '../../worker/store/rollups.ts';

const DAY = 86_400_000;
const D = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
const secs = (s: Partial<StateSeconds>): StateSeconds => ({ good: 0, degraded: 0, blind: 0, unknown: 0, paused: 0, ...s });

async function flush(agent: string, f: RollupFlush): Promise<number> {
  const queries = writeRollups(createDb(env.DB), agent, f);
  await runBatch(env.DB, queries);
  return queries.length;
}

async function dayRow(agent: string, day: number) {
  const row = await env.DB.prepare('SELECT monitors, signals FROM agent_days WHERE agent_id = ? AND day = ?')
    .bind(agent, day)
    .first<{ monitors: string; signals: string }>();
  return row === null
    ? null
    : { monitors: JSON.parse(row.monitors) as Record<string, number[]>, signals: JSON.parse(row.signals) as Record<string, unknown[]> };
}

describe('day rows', () => {
  it('a flush writes one statement per day, and D1 adds each flush to the day', async () => {
    const n = await flush('days-a', {
      buckets: {
        [D]: { agent: secs({ good: 300 }), q: secs({ good: 100.25, blind: 199.75 }) },
        [D + 300_000]: { agent: secs({ good: 300 }) },
      },
      signals: { [D]: { k: { name: 'q.age', last: 4, min: 1, max: 9, samples: 3, unknown: 1 } } },
      takenAt: D + 600_000,
    });
    expect(n).toBe(1);
    await flush('days-a', {
      buckets: { [D + 600_000]: { agent: secs({ degraded: 120, good: 180 }), q: secs({ unknown: 300 }), new: secs({ paused: 300 }) } },
      // A null last (only unknowns) keeps the day's last; min and max widen; counts add up; a new signal joins.
      signals: {
        [D]: {
          k: { name: 'q.age', last: null, min: 0.5, max: null, samples: 0, unknown: 2 },
          j: { name: 'x.ratio', last: 0.9, min: 0.9, max: 0.9, samples: 1, unknown: 0 },
        },
      },
      takenAt: D + 900_000,
    });
    await flush('days-a', {
      buckets: {},
      signals: { [D]: { k: { name: 'q.age', last: 7, min: 7, max: 7, samples: 1, unknown: 0 } } },
      takenAt: D + 960_000,
    });
    expect(await dayRow('days-a', D)).toEqual({
      monitors: { agent: [780, 120, 0, 0, 0], new: [0, 0, 0, 0, 300], q: [100.25, 0, 199.75, 300, 0] },
      signals: { j: ['x.ratio', 0.9, 0.9, 0.9, 1, 0], k: ['q.age', 7, 0.5, 9, 4, 3] },
    });
  });

  it('splits a flush at midnight, and folds signal hours kept by an older Durable Object into their day', async () => {
    const n = await flush('days-b', {
      buckets: { [D + DAY - 300_000]: { agent: secs({ good: 300 }) }, [D + DAY]: { agent: secs({ blind: 300 }) } },
      signals: {
        [D + 22 * 3_600_000]: { k: { name: 'm', last: 5, min: 5, max: 6, samples: 2, unknown: 0 } },
        [D + 23 * 3_600_000]: { k: { name: 'm', last: 3, min: 3, max: 3, samples: 1, unknown: 1 } },
        [D + DAY]: { k: { name: 'm', last: 8, min: 8, max: 8, samples: 1, unknown: 0 } },
      },
      takenAt: D + DAY + 300_000,
    });
    expect(n).toBe(2);
    expect(await dayRow('days-b', D)).toEqual({ monitors: { agent: [300, 0, 0, 0, 0] }, signals: { k: ['m', 3, 3, 6, 3, 1] } });
    expect(await dayRow('days-b', D + DAY)).toEqual({ monitors: { agent: [0, 0, 300, 0, 0] }, signals: { k: ['m', 8, 8, 8, 1, 0] } });
  });
});

describe('a flush sent again', () => {
  const first: RollupFlush = {
    buckets: { [D]: { agent: secs({ good: 300 }) } },
    signals: { [D]: { k: { name: 'm', last: 2, min: 2, max: 2, samples: 1, unknown: 0 } } },
    takenAt: D + 400_000,
  };
  const second: RollupFlush = {
    buckets: { [D + 300_000]: { agent: secs({ blind: 300 }) } },
    signals: { [D]: { k: { name: 'm', last: 5, min: 5, max: 5, samples: 1, unknown: 0 } } },
    takenAt: D + 700_000,
  };

  it('is added once: the batch D1 took but answered too late comes again from the Durable Object', async () => {
    await flush('again-a', first);
    await flush('again-a', first);
    await flush('again-a', second);
    await flush('again-a', second);
    // An older flush arriving after a newer one (never sent in that order, but kept out all the same).
    await flush('again-a', first);
    expect(await dayRow('again-a', D)).toEqual({ monitors: { agent: [300, 0, 300, 0, 0] }, signals: { k: ['m', 5, 2, 5, 2, 0] } });
  });

  it('adds to a row from before the stamp (migration 0008 leaves it at 0)', async () => {
    await env.DB.prepare(`INSERT INTO agent_days (agent_id, day, monitors, signals) VALUES ('again-b', ?, '{"agent":[600,0,0,0,0]}', '{}')`)
      .bind(D)
      .run();
    await flush('again-b', second);
    await flush('again-b', second);
    expect(await dayRow('again-b', D)).toEqual({ monitors: { agent: [600, 0, 300, 0, 0] }, signals: { k: ['m', 5, 5, 5, 1, 0] } });
  });
});

describe('migration 0007', () => {
  it('folds the hourly rollups and signal statistics into day rows and drops the old tables', async () => {
    const db = env.MIGRATION_DB;
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < '0007');
    expect(before.length).toBe(6);
    await applyD1Migrations(db, before);
    const h = 3_600_000;
    await db.batch([
      db.prepare("INSERT INTO rollup_5m VALUES ('a', 'agent', ?, 300, 0, 0, 0, 0)").bind(D),
      db.prepare("INSERT INTO rollup_1h VALUES ('a', 'agent', ?, 3600, 0, 0, 0, 0)").bind(D),
      db.prepare("INSERT INTO rollup_1h VALUES ('a', 'agent', ?, 3000, 0, 600, 0, 0)").bind(D + h),
      db.prepare("INSERT INTO rollup_1h VALUES ('a', 'q', ?, 1800.5, 0, 0, 1799.5, 0)").bind(D + h),
      db.prepare("INSERT INTO rollup_1h VALUES ('a', 'agent', ?, 3600, 0, 0, 0, 0)").bind(D + DAY),
      db.prepare("INSERT INTO signal_rollup_1h VALUES ('a', 'k', 'q.age', ?, 5, 1, 9, 10, 1)").bind(D),
      db.prepare("INSERT INTO signal_rollup_1h VALUES ('a', 'k', 'q.age', ?, 7, 2, 7, 4, 0)").bind(D + h),
      db.prepare("INSERT INTO signal_rollup_1h VALUES ('a', 'k', 'q.age', ?, NULL, NULL, NULL, 0, 3)").bind(D + 2 * h),
      // Signals only: a day with no monitor seconds still gets its row.
      db.prepare("INSERT INTO signal_rollup_1h VALUES ('b', 'k', 'q.age', ?, 2, 2, 2, 1, 0)").bind(D),
    ]);
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const rows = await db
      .prepare('SELECT agent_id, day, monitors, signals FROM agent_days ORDER BY agent_id, day')
      .all<{ agent_id: string; day: number; monitors: string; signals: string }>();
    expect(rows.results.map((r) => ({ ...r, monitors: JSON.parse(r.monitors), signals: JSON.parse(r.signals) }))).toEqual([
      {
        agent_id: 'a',
        day: D,
        monitors: { agent: [6600, 0, 600, 0, 0], q: [1800.5, 0, 0, 1799.5, 0] },
        signals: { k: ['q.age', 7, 1, 9, 14, 4] },
      },
      { agent_id: 'a', day: D + DAY, monitors: { agent: [3600, 0, 0, 0, 0] }, signals: {} },
      { agent_id: 'b', day: D, monitors: {}, signals: { k: ['q.age', 2, 2, 2, 1, 0] } },
    ]);
    const left = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%rollup%'").all();
    expect(left.results).toEqual([]);
  });
});
