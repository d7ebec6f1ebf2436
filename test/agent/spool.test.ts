// The spool on a real temporary directory: atomic files, oldest first, bounded, survives a restart.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { restamped } from '../../agent/loop.ts';
import { MAX_REJECTED, Spool } from '../../agent/transport/spool.ts';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'blindspot-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 22, 12);
const body = (seq: number, pad = 0) => JSON.stringify({ v: 1, seq, pad: 'x'.repeat(pad) });

describe('the spool', () => {
  it('keeps heartbeats oldest first, leaves no temporary files, and a new process finds them', () => {
    const dir = fresh();
    const spool = new Spool(dir, { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    spool.add('hb_b_2', body(2), T0 - 1000);
    spool.add('hb_b_1', body(1), T0 - 2000);
    spool.add('hb_b_3', body(3), T0);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const again = new Spool(dir, { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    expect(again.list().map((h) => [h.id, JSON.parse(h.body).seq])).toEqual([
      ['hb_b_1', 1],
      ['hb_b_2', 2],
      ['hb_b_3', 3],
    ]);
  });

  it('cuts batches by count and bytes, and removes what was sent', () => {
    const spool = new Spool(fresh(), { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    for (let i = 1; i <= 5; i++) spool.add(`hb_${i}`, body(i, 100), T0 + i);
    expect(spool.batch(3, 1e6).map((h) => h.id)).toEqual(['hb_1', 'hb_2', 'hb_3']);
    expect(spool.batch(10, 300).map((h) => h.id)).toEqual(['hb_1', 'hb_2']);
    spool.remove(spool.batch(2, 1e6));
    expect(spool.list().map((h) => h.id)).toEqual(['hb_3', 'hb_4', 'hb_5']);
  });

  it('is bounded by age and by size, dropping the oldest and saying how many', () => {
    let now = T0;
    const spool = new Spool(fresh(), { maxBytes: 1200, maxAgeMs: 60_000 }, () => now);
    expect(spool.add('old', body(1), T0 - 120_000)).toBe(1); // too old on arrival
    for (let i = 1; i <= 4; i++) expect(spool.add(`hb_${i}`, body(i, 200), T0 + i)).toBe(0);
    expect(spool.add('hb_5', body(5, 200), T0 + 5)).toBe(1); // each file is ~255 bytes: five pass 1200, the oldest goes
    expect(spool.list().map((h) => h.id)).toEqual(['hb_2', 'hb_3', 'hb_4', 'hb_5']);
    now = T0 + 61_000;
    expect(spool.enforce()).toBe(4);
    expect(spool.size()).toBe(0);
  });

  it('sets refused heartbeats aside, and drops files it cannot read', () => {
    const dir = fresh();
    const spool = new Spool(dir, { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    spool.add('hb_1', body(1), T0);
    writeFileSync(join(dir, `${String(T0 + 1).padStart(15, '0')}-broken.json`), '{"id": "x", "bo');
    expect(spool.list().map((h) => h.id)).toEqual(['hb_1']);
    spool.reject(spool.list());
    expect(spool.size()).toBe(0);
    expect(existsSync(join(dir, 'rejected', `${String(T0).padStart(15, '0')}-hb_1.json`))).toBe(true);
  });

  it("moves a spooled sent_at from the host's clock onto the Worker's when it is backfilled", () => {
    const hostSentAt = new Date(T0 + 600_000).toISOString();
    const body = JSON.stringify({ v: 1, seq: 1, sent_at: hostSentAt });
    // The host is 10 minutes ahead: the Worker's clock is 10 minutes behind it.
    expect(JSON.parse(restamped(body, -600_000))).toEqual({ v: 1, seq: 1, sent_at: new Date(T0).toISOString() });
    // A host on time: sent exactly as spooled.
    expect(restamped(body, 0)).toBe(body);
    expect(restamped('{"v":1,"seq":1}', -600_000)).toBe('{"v":1,"seq":1}');
  });

  it('adds and bounds from its index without reading the spooled files back; a batch reads only what it sends', () => {
    const dir = fresh();
    const spool = new Spool(dir, { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    const broken = join(dir, `${String(T0 - 10).padStart(15, '0')}-broken.json`);
    writeFileSync(broken, '{"id": "x", "bo');
    const again = new Spool(dir, { maxBytes: 1e6, maxAgeMs: 86_400_000 }, () => T0);
    for (let i = 1; i <= 20; i++) again.add(`hb_${i}`, body(i), T0 + i);
    // Never read: still there, counted by its size.
    expect(existsSync(broken)).toBe(true);
    expect(again.size()).toBe(21);
    expect(again.batch(2, 1e6).map((h) => h.id)).toEqual(['hb_1', 'hb_2']);
    expect(existsSync(broken)).toBe(false);
    expect(again.size()).toBe(20);
    expect(spool.dir).toBe(dir);
  });

  it(`keeps the newest ${MAX_REJECTED} refused heartbeats aside, not more`, () => {
    const dir = fresh();
    const spool = new Spool(dir, { maxBytes: 1e8, maxAgeMs: 86_400_000 }, () => T0);
    for (let i = 1; i <= MAX_REJECTED + 5; i++) spool.add(`hb_${i}`, body(i, 10), T0 - 100_000 + i);
    spool.reject(spool.batch(MAX_REJECTED + 5, 1e9));
    const kept = readdirSync(join(dir, 'rejected')).sort();
    expect(kept).toHaveLength(MAX_REJECTED);
    expect(kept[0]).toBe(`${String(T0 - 100_000 + 6).padStart(15, '0')}-hb_6.json`);
    expect(spool.size()).toBe(0);
  });
});
