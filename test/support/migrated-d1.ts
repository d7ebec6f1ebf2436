// A fresh local D1 with every migration applied, for a test's Worker: copied from one made once by
// `wrangler d1 migrations apply` and kept until the migrations change.
//
// Each test Worker used to apply the migrations itself: a wrangler and a workerd started and stopped
// for every one, about 4 s of CPU on a machine of two (some 25 Workers in `npm test`). The copy is the
// same files wrangler wrote (SQLite and miniflare's metadata, nothing open), made in milliseconds.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { applyMigrations } from '../../scripts/local-worker.ts';

const MIGRATIONS = 'worker/migrations';
const CACHE = join('node_modules', '.cache', 'blindspot-d1');

/** What the migrated state depends on: the migrations, the D1 binding in wrangler.toml, the wrangler installed. */
function key(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS).sort()) h.update(f).update(readFileSync(join(MIGRATIONS, f)));
  h.update(readFileSync('wrangler.toml'));
  h.update(readFileSync(join('node_modules', 'wrangler', 'package.json')));
  return h.digest('hex').slice(0, 16);
}

let made: Promise<string> | null = null;

/** The migrated state to copy from, made by wrangler the first time (two test files may race: the first rename wins). */
function template(): Promise<string> {
  made ??= (async () => {
    const dir = join(CACHE, key());
    if (existsSync(dir)) return dir;
    mkdirSync(CACHE, { recursive: true });
    const building = `${dir}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    await applyMigrations({ persistTo: building });
    try {
      renameSync(building, dir);
    } catch (e: unknown) {
      if (!existsSync(dir)) throw e;
      rmSync(building, { recursive: true, force: true });
    }
    return dir;
  })();
  made.catch(() => (made = null));
  return made;
}

/** Puts a migrated local D1 at `persistTo` (which must not exist yet), as `wrangler d1 migrations apply --local` would. */
export async function migratedD1(persistTo: string): Promise<void> {
  if (existsSync(persistTo)) throw new Error(`${persistTo} exists already: a migrated D1 goes into a new directory`);
  cpSync(await template(), persistTo, { recursive: true });
}
