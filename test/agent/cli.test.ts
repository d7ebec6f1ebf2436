import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSecret } from '../../protocol/signature.ts';
import { freePort } from '../support/ports.ts';
import { scratchDir } from '../support/scratch-dir.ts';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['bin/blindspot-agent.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, BLINDSPOT_CONFIG: '', ...env },
    timeout: 15_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('blindspot-agent', () => {
  it('--version prints the package version, for the agent and the admin CLI', () => {
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: `blindspot-agent ${version}\n` });
    const admin = spawnSync(process.execPath, ['bin/blindspot.js', '-V'], { encoding: 'utf8', timeout: 15_000 });
    expect(admin.stdout).toBe(`blindspot ${version}\n`);
  });

  it('the admin CLI says what is wrong with its URL, and what it tried when nothing answers', async () => {
    const admin = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['bin/blindspot.js', 'incident', 'list'], {
        encoding: 'utf8',
        timeout: 15_000,
        env: { ...process.env, BLINDSPOT_ADMIN_TOKEN: 'x'.repeat(64), ...env },
      });
    const noScheme = admin({ BLINDSPOT_WORKER_URL: 'blindspot.example.com' });
    expect(noScheme.status).toBe(2);
    expect(noScheme.stderr).toMatch(
      /BLINDSPOT_WORKER_URL "blindspot.example.com" is not an http\(s\) URL: write it with its scheme, e.g. https:\/\/blindspot.example.com/,
    );
    const port = await freePort();
    const refused = admin({ BLINDSPOT_WORKER_URL: `http://127.0.0.1:${port}` });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `could not reach http://127.0.0.1:${port} \\(/v1/admin/incidents\\): nothing listens at 127.0.0.1:${port} \\(ECONNREFUSED\\)`,
      ),
    );
  });

  it('keygen prints a usable whsec_ secret', () => {
    const { code, stdout } = cli(['keygen']);
    expect(code).toBe(0);
    expect(decodeSecret(stdout.trim())).toHaveLength(32);
  });

  it('once prints a valid heartbeat of the demo probe and exits 0', () => {
    const { code, stdout, stderr } = cli(['once', '--config', 'examples/demo-agent.yaml']);
    expect(code).toBe(0);
    const heartbeat = JSON.parse(stdout) as { v: number; signals: { name: string; labels: Record<string, string> }[] };
    expect(heartbeat.v).toBe(1);
    const demo = heartbeat.signals.filter((s) => s.labels.source === 'demo');
    expect(demo).toHaveLength(7);
    expect(demo.every((s) => s.labels.simulated === 'true')).toBe(true);
    // The agent's own telemetry rides along: how long the probe took and how many signals it missed.
    expect(heartbeat.signals.filter((s) => s.labels.source === 'blindspot-agent').map((s) => s.name)).toEqual([
      'agent.probe.duration',
      'agent.probe.failed',
    ]);
    expect(stderr).toMatch(/^LEVEL\s+SIGNAL/m);
    expect(stderr.match(/^UP\s/gm)).toHaveLength(9);
  });

  it('once exits 1 when a signal could not be measured', () => {
    const dir = scratchDir('blindspot-cli-');
    const path = join(dir, 'agent.yaml');
    writeFileSync(
      path,
      'agent_id: x\nworker_url: http://127.0.0.1:9\nsecret_env: S\nprobes:\n  - type: prometheus_freshness\n    url: http://127.0.0.1:9\n    selector: up\n    timeout_s: 1\n',
    );
    const { code, stdout } = cli(['once', '--config', path], { S: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).signals[0]).toMatchObject({ value: null, error: expect.stringMatching(/cannot reach Prometheus/) });
  });

  it('exits 2 with a message naming the field for a bad config', () => {
    const dir = scratchDir('blindspot-cli-');
    const path = join(dir, 'agent.yaml');
    writeFileSync(path, 'agent_id: x\nworker_url: nope\nsecret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nprobes: [{type: demo}]\n');
    const { code, stderr } = cli(['run', '--config', path]);
    expect(code).toBe(2);
    expect(stderr).toContain('worker_url: worker_url must be an http:// or https:// URL');
  });

  it('exits 2 with usage for an unknown command or flag', () => {
    expect(cli(['launch']).code).toBe(2);
    const { code, stderr } = cli(['run', '--verbose']);
    expect(code).toBe(2);
    expect(stderr).toContain('usage: blindspot-agent');
  });

  it('the single-file build runs without tsx: once on the demo probe exits 0', async () => {
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-agent.ts'], { encoding: 'utf8', timeout: 60_000 });
    expect(built.status, built.stderr).toBe(0);
    const result = spawnSync(process.execPath, ['build/blindspot-agent.mjs', 'once', '--config', 'examples/demo-agent.yaml'], {
      encoding: 'utf8',
      env: { ...process.env, BLINDSPOT_CONFIG: '' },
      timeout: 15_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).signals.length).toBe(9);
  });

  it('once refuses a bad --over or --watchdog-config with exit 2 and a message naming it', () => {
    const dir = scratchDir('blindspot-cli-');
    writeFileSync(join(dir, 'watch.yaml'), 'monitors: [{ id: x, kind: bogus }]\n');
    const cases: [string[], RegExp][] = [
      [['--over', 'abc'], /--over is a number of seconds from 0 to 600 \(got abc\)/],
      [['--over=-1'], /--over is a number of seconds from 0 to 600 \(got -1\)/],
      [['--over', '-1'], /Option '--over' argument is ambiguous/],
      [['--watchdog-config', join(dir, 'missing.yaml')], /cannot read --watchdog-config .*missing.yaml: ENOENT/],
      [['--watchdog-config', join(dir, 'watch.yaml')], /--watchdog-config .*watch.yaml is invalid:\n {2}- monitors.0.kind: kind is one of/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = cli(['once', '--config', 'examples/demo-agent.yaml', ...args]);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stdout).toBe('');
    }
  });
});

describe('both CLIs: help per command, shell completion, -o json', () => {
  const admin = (args: string[]) => {
    const r = spawnSync(process.execPath, ['bin/blindspot.js', ...args], { encoding: 'utf8', timeout: 15_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('help for one command shows that command, not the others', () => {
    const doctor = cli(['doctor', '--help']);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/^usage: blindspot-agent doctor \[options\]\n\n {2}doctor +run every probe once/);
    expect(doctor.stdout).not.toContain('keygen');
    expect(cli(['help', 'validate']).stdout).toMatch(/^usage: blindspot-agent validate/);
    const agent = admin(['agent', '--help']);
    expect(agent.stdout).toMatch(/^usage: blindspot agent <command> \[options\]/);
    expect(agent.stdout).toContain('agent rotate <id>');
    expect(agent.stdout).not.toContain('incident open');
    expect(admin(['help', 'channel']).stdout).toContain('channel test <id>');
    // An unknown topic gets the whole help.
    expect(admin(['help', 'nonsense']).stdout).toMatch(/^usage: blindspot <command> \[options\]/);
  });

  it('prints completion scripts that bash reads, completing commands and their verbs', () => {
    for (const [script, bin] of [
      [admin(['completion', 'bash']).stdout, 'blindspot'],
      [cli(['completion', 'bash']).stdout, 'blindspot-agent'],
    ] as const) {
      const check = spawnSync(
        'bash',
        ['-c', `${script}\nCOMP_WORDS=(${bin} ag); COMP_CWORD=1; _${bin.replace('-', '_')}_complete; echo "\${COMPREPLY[@]}"`],
        {
          encoding: 'utf8',
        },
      );
      expect(check.status, check.stderr).toBe(0);
      if (bin === 'blindspot') expect(check.stdout.trim()).toBe('agent');
    }
    const verbs = spawnSync(
      'bash',
      [
        '-c',
        `${admin(['completion', 'bash']).stdout}\nCOMP_WORDS=(blindspot agent r); COMP_CWORD=2; _blindspot_complete; echo "\${COMPREPLY[@]}"`,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(verbs.stdout.trim()).toBe('rotate revoke replication');
    expect(admin(['completion', 'fish'])).toMatchObject({ code: 2, stderr: expect.stringContaining('bash or zsh') });
    expect(admin(['completion', 'zsh']).stdout).toMatch(/^autoload -U \+X bashcompinit && bashcompinit\n/);
  });

  it('doctor -o json prints the checks as JSON; a bad -o is a usage error', () => {
    const dir = scratchDir('blindspot-cli-json-');
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      'agent_id: j\nworker_url: http://127.0.0.1:9\nsecret: whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=\nprobes: [{ type: demo }]\n',
    );
    const r = cli(['doctor', '--config', file, '-o', 'json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[]; cannot_fire: unknown[] };
    expect(report.ok).toBe(false); // nothing answers on port 9
    expect(report.checks.find((c) => c.name === 'demo')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'worker')?.ok).toBe(false);
    expect(r.code).toBe(1);
    expect(cli(['doctor', '--config', file, '-o', 'xml'])).toMatchObject({ code: 2, stderr: expect.stringContaining('text or json') });
  });
});
