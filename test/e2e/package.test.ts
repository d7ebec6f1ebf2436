// What a user installs: npm pack builds the package (prepack bundles build/), it installs into an
// empty folder with plain npm install <tarball> and nothing else from the registry, and its CLIs run
// on the system Node without TypeScript tooling. With them, against a real Worker under wrangler dev:
// blindspot agent add makes an agent whose heartbeats are taken without a redeploy, doctor says the
// Worker takes its secret, and after blindspot agent revoke its heartbeats get 401.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAndWait, runBin } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import pkg from '../../package.json' with { type: 'json' };

/** The Node on PATH outside node_modules: the one a user has (npm scripts put Node 24 from node_modules first). */
function systemNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.includes('node_modules')) continue;
    if (existsSync(join(dir, 'node'))) return join(dir, 'node');
  }
  return process.execPath;
}

const NODE = systemNode();
const dir = mkdtempSync(join(tmpdir(), 'blindspot-package-'));
const app = join(dir, 'app');
let worker: TestWorker;
let token: string;
let agent: ChildProcess | undefined;

/** A CLI of the installed package, run by the system Node with no tsx and no TypeScript: only what the package brought. */
const installed = (bin: string, args: string[], env: Record<string, string> = {}) =>
  runBin(
    join(app, 'node_modules', '.bin', bin),
    args,
    { PATH: process.env.PATH ?? '', HOME: dir, BLINDSPOT_WORKER_URL: worker?.url ?? '', BLINDSPOT_ADMIN_TOKEN: token ?? '', ...env },
    { node: NODE, cwd: app, inherit: false },
  );

beforeAll(async () => {
  // npm pack runs prepack (the build); the tarball installs with nothing but itself and, for the
  // OpenTelemetry hook, the application's own OpenTelemetry packages (optional peers).
  execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{"name": "user-app", "private": true, "type": "module"}\n');
  const peers = ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/sdk-trace-base'].map((p) => resolve('node_modules', p));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, tarball), ...peers], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const made = (await installed('blindspot', ['token', 'package'])).stdout;
  token = /^ {2}([0-9a-f]{64})$/m.exec(made)?.[1] as string;
  worker = await startTestWorker('package', {
    BLINDSPOT_CONFIG: JSON.stringify({ components: [{ id: 'api', name: 'API' }], defaults: { component: 'api' } }),
    BLINDSPOT_ADMIN_TOKENS: /^ {2}(\{.*\})$/m.exec(made)?.[1] as string,
  });
}, 180_000);

afterAll(async () => {
  await killAndWait(agent);
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('installs only itself, and both CLIs print the version on the system Node', async () => {
    expect(readdirSync(join(app, 'node_modules')).sort()).toEqual(['.bin', '.package-lock.json', '@opentelemetry', 'blindspot']);
    expect(existsSync(join(app, 'node_modules', 'blindspot', 'agent'))).toBe(false); // no sources shipped
    expect(await installed('blindspot-agent', ['--version'])).toMatchObject({ code: 0, stdout: `blindspot-agent ${pkg.version}\n` });
    expect(await installed('blindspot', ['--version'])).toMatchObject({ code: 0, stdout: `blindspot ${pkg.version}\n` });
  });

  it('import { createOtelHook } from "blindspot/otel" works on plain Node', async () => {
    const script = "const m = await import('blindspot/otel'); console.log(typeof m.createOtelHook, typeof m.startEmbeddedAgent);";
    expect(execFileSync(NODE, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' })).toBe('function function\n');
  });

  it('an agent added with blindspot agent add is taken at once; doctor says so; revoked, it gets 401', async () => {
    const added = await installed('blindspot', ['agent', 'add', 'edge-pkg']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const secret = /^ {2}(whsec_\S+)$/m.exec(added.stdout)?.[1] as string;
    expect(secret).toBeDefined();
    const config = join(app, 'agent.yaml');
    writeFileSync(
      config,
      `agent_id: edge-pkg\nworker_url: ${worker.url}\nsecret_env: EDGE_SECRET\ninterval_s: 1s\nprobes:\n  - type: demo\n`,
    );
    expect(await installed('blindspot-agent', ['validate', config], { EDGE_SECRET: secret })).toMatchObject({ code: 0 });

    const ok = await installed('blindspot-agent', ['doctor', '--config', config, '-o', 'json'], { EDGE_SECRET: secret });
    const report = JSON.parse(ok.stdout) as { ok: boolean; checks: { name: string; ok: boolean; reason: string }[] };
    expect(report.checks.find((c) => c.name === 'signature')).toMatchObject({
      ok: true,
      reason: 'the Worker takes agent "edge-pkg" with this secret',
    });
    expect(ok.code).toBe(0);

    agent = spawn(NODE, [join(app, 'node_modules', '.bin', 'blindspot-agent'), 'run', '--config', config], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', EDGE_SECRET: secret },
      stdio: 'ignore',
    });
    await waitFor(
      'the added agent’s heartbeats in D1',
      async () => d1Query<{ id: string }>(worker.persistTo, "SELECT id FROM agents WHERE id = 'edge-pkg'")[0],
      30_000,
      250,
    );
    await killAndWait(agent);

    expect(await installed('blindspot', ['agent', 'revoke', 'edge-pkg'])).toMatchObject({ code: 0 });
    const refused = await installed('blindspot-agent', ['doctor', '--config', config, '-o', 'json'], { EDGE_SECRET: secret });
    const after = JSON.parse(refused.stdout) as { checks: { name: string; ok: boolean; reason: string }[] };
    expect(after.checks.find((c) => c.name === 'signature')).toMatchObject({ ok: false });
    expect(after.checks.find((c) => c.name === 'signature')?.reason).toMatch(/401.*unknown_agent/);
    expect(refused.code).toBe(1);
  }, 90_000);
});
