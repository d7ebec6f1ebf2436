// wrangler.toml as the tests hand it to wrangler: a copy in a directory of its own, its paths made
// absolute. wrangler reads .dev.vars from the directory of the configuration it is given, and adds
// what it holds to the Worker's bindings; a developer's (npm start writes one, whose webhook points
// at its local receiver) would otherwise reach the tests' Worker, and the tests would judge a Worker
// configured unlike the one they set up.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Keys of wrangler.toml whose value is a path relative to it. */
const PATH_KEYS = ['main', 'migrations_dir'];

/** Writes the copy (each run anew) and answers its path. */
export function hermeticWranglerConfig(root = process.cwd(), outDir = join(root, 'test-artifacts', 'wrangler')): string {
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8').replace(
    new RegExp(`^(\\s*(?:${PATH_KEYS.join('|')})\\s*=\\s*)"([^"]*)"`, 'gm'),
    (_, key: string, path: string) => `${key}${JSON.stringify(resolve(root, path))}`,
  );
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'wrangler.toml');
  writeFileSync(path, text);
  return path;
}
