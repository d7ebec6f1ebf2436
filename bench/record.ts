// Where benchmark results go: bench/results/<name>-<date>.json, with the machine and versions.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export function machine() {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function record(name: string, result: Record<string, unknown> & { date: string }): string {
  const file = join('bench', 'results', `${name}-${result.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
  return file;
}

/** The versions that produced a figure: the runtime and the parts under test. */
export function versions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    version: string;
    devDependencies: Record<string, string>;
    dependencies: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string }> };
  const of = (name: string) => lock.packages[`node_modules/${name}`]?.version ?? 'unknown';
  return {
    blindspot: pkg.version,
    node: process.version,
    wrangler: of('wrangler'),
    workerd: of('workerd'),
    miniflare: of('miniflare'),
    hono: of('hono'),
    autocannon: of('autocannon'),
  };
}
