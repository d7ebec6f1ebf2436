// Heartbeats the Worker could not take, kept on disk until they can be backfilled. One file per
// heartbeat, written atomically (temporary file, fsync, rename), named so that a directory listing
// is oldest first. Bounded by total size and by age: past either bound the oldest go, loudly.
// A new agent process finds what the last one left.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SpoolLimits {
  maxBytes: number;
  maxAgeMs: number;
}

export interface SpooledHeartbeat {
  file: string;
  id: string;
  body: string;
  sentAt: number;
  bytes: number;
}

const NAME = /^(\d{15})-(.+)\.json$/;

export class Spool {
  private readonly rejectedDir: string;

  constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.rejectedDir = join(dir, 'rejected');
  }

  /** Keeps one heartbeat; returns how many old ones the bounds pushed out. */
  add(id: string, body: string, sentAt: number): number {
    const name = `${String(sentAt).padStart(15, '0')}-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
    const tmp = join(this.dir, `.${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ id, body }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, name));
    return this.enforce();
  }

  /** Oldest first. Unreadable or half-written files are skipped (and removed: they cannot be sent). */
  list(): SpooledHeartbeat[] {
    const out: SpooledHeartbeat[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const match = NAME.exec(name);
      if (match === null) continue;
      const file = join(this.dir, name);
      try {
        const { id, body } = JSON.parse(readFileSync(file, 'utf8')) as { id: unknown; body: unknown };
        if (typeof id !== 'string' || typeof body !== 'string') throw new Error('not a spooled heartbeat');
        out.push({ file, id, body, sentAt: Number(match[1]), bytes: statSync(file).size });
      } catch {
        rmSync(file, { force: true });
      }
    }
    return out;
  }

  /** The oldest heartbeats that fit one backfill batch. */
  batch(maxCount: number, maxBodyBytes: number): SpooledHeartbeat[] {
    const out: SpooledHeartbeat[] = [];
    let bytes = 32;
    for (const hb of this.list()) {
      if (out.length >= maxCount || bytes + hb.body.length + 1 > maxBodyBytes) break;
      out.push(hb);
      bytes += hb.body.length + 1;
    }
    return out;
  }

  remove(items: readonly SpooledHeartbeat[]): void {
    for (const hb of items) rmSync(hb.file, { force: true });
  }

  /** The Worker refused these for good: kept aside for a person, out of the send queue. */
  reject(items: readonly SpooledHeartbeat[]): void {
    mkdirSync(this.rejectedDir, { recursive: true });
    for (const hb of items) renameSync(hb.file, join(this.rejectedDir, hb.file.slice(this.dir.length + 1)));
  }

  size(): number {
    return this.list().length;
  }

  /** Drops what is older than maxAge, then the oldest until the total fits maxBytes. */
  enforce(): number {
    const all = this.list();
    let total = all.reduce((n, hb) => n + hb.bytes, 0);
    let dropped = 0;
    for (const hb of all) {
      if (hb.sentAt >= this.now() - this.limits.maxAgeMs && total <= this.limits.maxBytes) break;
      rmSync(hb.file, { force: true });
      total -= hb.bytes;
      dropped++;
    }
    return dropped;
  }
}
