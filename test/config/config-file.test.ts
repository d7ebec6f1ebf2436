import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AGENT_DESCRIPTIONS, WATCHDOG_DESCRIPTIONS } from '../../config/descriptions.ts';
import { agentJsonSchema, configJsonSchema, fieldsOf, withFieldReference } from '../../config/json-schema.ts';
import { loadConfigText } from '../../config/load.ts';
import { scratchDir } from '../support/scratch-dir.ts';

const errorsOf = (text: string) => {
  const r = loadConfigText(text);
  return r.ok ? [] : r.errors;
};

describe('the watchdog configuration file', () => {
  it('an empty file is valid and gets the documented defaults', () => {
    const r = loadConfigText('');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.defaults).toMatchObject({
      component: 'monitoring',
      for: { heartbeats: 2, seconds: 0 },
      recoverFor: { heartbeats: 3, seconds: 60 },
      flapping: { transitions: 6, withinS: 1800, stableS: 600 },
    });
    expect(r.config.defaults.rules.freshness).toEqual({ degraded: { maxAgeS: 120 }, blind: { maxAgeS: 600 } });
    expect(r.config.clockSkewS).toBe(30);
    expect(r.config.components.map((c) => c.id)).toEqual(['monitoring']);
  });

  it('the bundled example is valid', () => {
    const r = loadConfigText(readFileSync('blindspot.config.yaml', 'utf8'));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('notifications get their defaults: 1 h reminders, a 24 h horizon, 10 s timeouts, us region', () => {
    const r = loadConfigText(
      'notifications: { public_url: "https://status.example.com/", channels: [{ id: og, type: opsgenie }], routes: [{ channels: [og], severities: [critical] }] }',
    );
    if (!r.ok) throw new Error(r.errors.join());
    expect(r.config.notifications).toEqual({
      publicUrl: 'https://status.example.com',
      repeatIntervalS: 3600,
      giveUpAfterS: 86_400,
      channels: [{ id: 'og', type: 'opsgenie', region: 'us', endpoint: null, timeoutMs: 10_000 }],
      routes: [{ channels: ['og'], monitors: ['*'], components: null, agents: ['*'], severities: ['critical'], repeatIntervalS: 3600 }],
    });
  });

  it('takes Prometheus durations for for and recover_for, as an alerting rule writes them', () => {
    const r = loadConfigText('monitors: [{ id: f, kind: freshness, for: 2m, recover_for: 1h30m }]');
    if (!r.ok) throw new Error(r.errors.join());
    expect(r.config.monitors[0]?.for).toEqual({ heartbeats: 1, seconds: 120 });
    expect(r.config.monitors[0]?.recoverFor).toEqual({ heartbeats: 1, seconds: 5400 });
  });

  it('monitor thresholds override only what they name', () => {
    const r = loadConfigText('monitors: [{ id: f, kind: freshness, blind: { max_age_s: 30 } }]');
    if (!r.ok) throw new Error(r.errors.join());
    expect(r.config.monitors[0]?.rules.freshness).toEqual({ degraded: { maxAgeS: 120 }, blind: { maxAgeS: 30 } });
  });

  it.each([
    [
      'monitors: [{ id: f, kind: freshness, treshold: 3 }]',
      /monitors\.0\.treshold|unknown key treshold: a monitor takes id, name, component/,
    ],
    ['monitors: [{ id: f }]', /give "signal" \(a name or glob such as "metrics\.\*"\), "kind", or both/],
    ['monitors: [{ id: F!, kind: freshness }]', /monitors\.0\.id: id uses lower case letters/],
    ['monitors: [{ id: f, kind: freshness, component: billing }]', /component "billing" is not defined; add it under "components"/],
    [
      'monitors: [{ id: f, kind: sampling, blind: { max_age_s: 3 } }]',
      /blind\.max_age_s: a sampling monitor takes min_ratio and drop_below; remove max_age_s/,
    ],
    ['monitors: [{ id: f, kind: freshness }, { id: f, kind: dropped }]', /the id "f" is used twice/],
    ['monitors: [{ id: f, kind: freshness, for: { heartbeats: 0 } }]', /monitors\.0\.for\.heartbeats: heartbeats is at least 1/],
    ['monitors: [{ id: f, kind: bogus }]', /kind is one of freshness, sampling, dropped, queue_age/],
    ['monitors: [{ kind: freshness }]', /monitors\.0\.id: is required: a monitor takes id, name, component/],
    ['components: [{ id: api }]', /components\.0\.name: is required: a component takes id, name/],
    [
      'monitors: [{ id: f, kind: freshness, for: forever }]',
      /monitors\.0\.for: "for" is a duration such as 30s, 2m or 1h30m \(at most 1d\), or \{ heartbeats, seconds \}/,
    ],
    ['monitors: [{ id: f, kind: freshness, recover_for: 2d }]', /monitors\.0\.recover_for: "recover_for" is a duration/],
    [
      'monitors: [{ id: f, kind: freshness, flapping: 3 }]',
      /monitors\.0\.flapping: "flapping" is a mapping of transitions, within_s, stable_s, not 3/,
    ],
    ['maintenance: [{ id: m, starts_at: "2026-12-01T03:00:00Z", ends_at: "2026-12-01T02:00:00Z" }]', /ends_at must be after starts_at/],
    ['maintenance: [{ id: m, starts_at: "tomorrow", ends_at: "2026-12-01T02:00:00Z" }]', /starts_at must be an RFC 3339 time with a zone/],
    [
      'maintenance: [{ id: m, starts_at: "2026-12-01T01:00:00", ends_at: "2026-12-01T02:00:00Z" }]',
      /starts_at must be an RFC 3339 time with a zone/,
    ],
    ['alertmanager: { sources: [{ id: prod }] }', /interval_s/],
    ['monitors: [{ id: agent, kind: freshness }]', /"agent" is built in/],
    ['monitors: {', /YAML/],
    ['a: 1\na: 2', /YAML/],
    ['defaults: { kinds: { freshness: { blind: { max_age_s: -1 } } } }', /max_age_s is at least 0/],
    [
      'notifications: { channels: [{ id: pd, type: pagerduty }], routes: [{ channels: [pager] }] }',
      /notifications\.routes\[0\]\.channels: no channel has the id "pager"; define it under notifications\.channels or use one of pd/,
    ],
    ['notifications: { channels: [{ id: pd, type: pagerdutyy }] }', /type is one of pagerduty, opsgenie, slack, discord, teams, webhook/],
    [
      'notifications: { channels: [{ id: pd, type: pagerduty, routing_key: abc }] }',
      /unknown key "routing_key": a channel \(its key or URL goes in the Worker secret BLINDSPOT_CHANNEL_SECRETS, never in this file\) takes id, type, region, endpoint, timeout_s/,
    ],
    ['notifications: { channels: [{ id: pd, type: pagerduty, endpoint: "ftp://x" }] }', /endpoint must be an http\(s\) URL/],
    ['notifications: { channels: [{ id: og, type: opsgenie, region: asia }] }', /region is "us" or "eu"/],
    [
      'notifications: { channels: [{ id: a, type: slack }, { id: a, type: discord }] }',
      /notifications\.channels: the id "a" is used twice/,
    ],
    ['notifications: { routes: [{ channels: [] }] }', /a route names at least one channel/],
    ['notifications: { repeat_interval_s: -5 }', /repeat_interval_s \(0 turns repeats off\) is at least 0/],
    ['notifications: { give_up_after_s: 10 }', /give_up_after_s is at least 60/],
    ['notifications: { public_url: "status.example.com" }', /public_url must be an http\(s\) URL such as https:\/\/status\.example\.com/],
    ['notifications: { channels: [{ id: s, type: slack, timeout_s: 600 }] }', /timeout_s is at most 30/],
  ])('refuses %j with a message naming the field and the fix', (text, message) => {
    const errors = errorsOf(text);
    expect(errors.join('\n')).toMatch(message);
  });

  it('the committed JSON Schemas are up to date (npm run config-schema writes them)', () => {
    expect(readFileSync('config/blindspot.config.schema.json', 'utf8')).toBe(configJsonSchema());
    expect(readFileSync('config/blindspot-agent.schema.json', 'utf8')).toBe(agentJsonSchema());
  });

  it.each([
    ['watchdog', configJsonSchema, WATCHDOG_DESCRIPTIONS],
    ['agent', agentJsonSchema, AGENT_DESCRIPTIONS],
  ] as const)('every field of the %s schema has a description, and every description a field', (_, schema, descriptions) => {
    const fields = fieldsOf(JSON.parse(schema()));
    expect(fields.length).toBeGreaterThan(30);
    expect(fields.filter((f) => typeof f.node.description !== 'string' || f.node.description.length < 10).map((f) => f.path)).toEqual([]);
    const used = new Set(fields.map((f) => f.path).flatMap((p) => p.split('.').map((_, i, all) => all.slice(i).join('.'))));
    expect(Object.keys(descriptions).filter((k) => !used.has(k))).toEqual([]);
  });

  it('the field reference in docs/configuration.md is generated from the current schemas', () => {
    const doc = readFileSync('docs/configuration.md', 'utf8');
    expect(doc).toBe(withFieldReference(doc));
    expect(doc).toContain('| `monitors[].for.seconds` | number, duration |');
  });

  it('the examples point editors at the schemas', () => {
    expect(readFileSync('blindspot.config.yaml', 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\/config\/blindspot\.config\.schema\.json$/m,
    );
    for (const f of ['examples/agent.yaml', 'examples/stack-agent.yaml', 'examples/demo-agent.yaml'])
      expect(readFileSync(f, 'utf8'), f).toMatch(/^# yaml-language-server: \$schema=\.\.\/config\/blindspot-agent\.schema\.json$/m);
  });
});

describe('npm run check-config', () => {
  const run = promisify(execFile);
  const check = (file: string) =>
    run(process.execPath, ['--import', 'tsx', 'config/check.ts', file]).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );

  it('exits 0 on a valid file and says what it found', async () => {
    const r = await check('blindspot.config.yaml');
    expect(r).toMatchObject({ code: 0 });
    const monitors = (readFileSync('blindspot.config.yaml', 'utf8').match(/^ {2}- id: /gm) ?? []).length;
    expect(monitors).toBeGreaterThan(10);
    expect(r.out).toMatch(new RegExp(`is valid: 3 component\\(s\\), ${monitors} monitor\\(s\\)`));
  });

  it('exits 1 and lists every error on an invalid file', async () => {
    const dir = scratchDir('blindspot-config-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'monitors: [{ id: f, kind: freshness, depends_on: [nope], component: x }]');
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/component "x" is not defined/);
    expect(r.out).toMatch(/no monitor has the id "nope"/);
  });

  it('exits 1 when the file cannot be read, as promtool does', async () => {
    expect((await check('/nonexistent/blindspot.yaml')).code).toBe(1);
  });
});
