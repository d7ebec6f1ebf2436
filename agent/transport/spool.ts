// Heartbeats the Worker could not take, kept on disk until they can be backfilled. One file per
// heartbeat, written atomically (temporary file, fsync, rename), named so that a directory listing
// is oldest first. Bounded by total size and by age: past either bound the oldest go, loudly.
// A new agent process finds what the last one left. An index of names and sizes (read once from the
// directory) keeps adding and bounding cheap however long the spool grows: only a batch being sent
// is read back. What the Worker refused for good is set aside, the newest MAX_REJECTED kept.
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
/** Refused heartbeats kept for a person to look at; older ones go. */
export const MAX_REJECTED = 1000;

export class Spool {
  private readonly rejectedDir: string;
  /** Spooled file names, oldest first, with their sizes. */
  private names: string[] = [];
  private readonly sizes = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    this.rejectedDir = join(dir, 'rejected');
    this.reindex();
  }

  /** Reads the directory's names and sizes (not the files). */
  private reindex(): void {
    this.sizes.clear();
    this.names = readdirSync(this.dir)
      .filter((n) => NAME.test(n))
      .sort();
    for (const n of this.names) this.sizes.set(n, statSync(join(this.dir, n)).size);
  }

  private forget(name: string): void {
    if (!this.sizes.delete(name)) return;
    const i = this.names.indexOf(name);
    if (i >= 0) this.names.splice(i, 1);
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
    if (!this.sizes.has(name)) {
      // Names sort oldest first; a new one nearly always goes last.
      let i = this.names.length;
      while (i > 0 && (this.names[i - 1] as string) > name) i--;
      this.names.splice(i, 0, name);
    }
    this.sizes.set(name, statSync(join(this.dir, name)).size);
    return this.enforce();
  }

  /** One spooled file read back, or null (and removed: it cannot be sent) when it is unreadable or half-written. */
  private read(name: string): SpooledHeartbeat | null {
    const file = join(this.dir, name);
    try {
      const { id, body } = JSON.parse(readFileSync(file, 'utf8')) as { id: unknown; body: unknown };
      if (typeof id !== 'string' || typeof body !== 'string') throw new Error('not a spooled heartbeat');
      return { file, id, body, sentAt: Number(NAME.exec(name)?.[1]), bytes: this.sizes.get(name) ?? statSync(file).size };
    } catch {
      rmSync(file, { force: true });
      this.forget(name);
      return null;
    }
  }

  /** Everything spooled, oldest first, read from the directory afresh (for a person or a test; the loop uses batch). */
  list(): SpooledHeartbeat[] {
    this.reindex();
    return [...this.names].map((n) => this.read(n)).filter((hb): hb is SpooledHeartbeat => hb !== null);
  }

  /** The oldest heartbeats that fit one backfill batch: only those are read. */
  batch(maxCount: number, maxBodyBytes: number): SpooledHeartbeat[] {
    const out: SpooledHeartbeat[] = [];
    let bytes = 32;
    for (const name of [...this.names]) {
      if (out.length >= maxCount) break;
      const hb = this.read(name);
      if (hb === null) continue;
      if (bytes + hb.body.length + 1 > maxBodyBytes) break;
      out.push(hb);
      bytes += hb.body.length + 1;
    }
    return out;
  }

  remove(items: readonly SpooledHeartbeat[]): void {
    for (const hb of items) {
      rmSync(hb.file, { force: true });
      this.forget(hb.file.slice(this.dir.length + 1));
    }
  }

  /** The Worker refused these for good: kept aside for a person, out of the send queue; the newest MAX_REJECTED stay. */
  reject(items: readonly SpooledHeartbeat[]): void {
    mkdirSync(this.rejectedDir, { recursive: true });
    for (const hb of items) {
      const name = hb.file.slice(this.dir.length + 1);
      renameSync(hb.file, join(this.rejectedDir, name));
      this.forget(name);
    }
    const kept = readdirSync(this.rejectedDir).sort();
    for (const old of kept.slice(0, Math.max(0, kept.length - MAX_REJECTED))) rmSync(join(this.rejectedDir, old), { force: true });
  }

  size(): number {
    return this.names.length;
  }

  /** Drops what is older than maxAge, then the oldest until the total fits maxBytes (from the index: nothing is read). */
  enforce(): number {
    let total = 0;
    for (const n of this.names) total += this.sizes.get(n) ?? 0;
    let dropped = 0;
    for (const name of [...this.names]) {
      const sentAt = Number(NAME.exec(name)?.[1]);
      if (sentAt >= this.now() - this.limits.maxAgeMs && total <= this.limits.maxBytes) break;
      rmSync(join(this.dir, name), { force: true });
      total -= this.sizes.get(name) ?? 0;
      this.forget(name);
      dropped++;
    }
    return dropped;
  }
}
