import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../agent/config.ts';
import { generateSecret } from '../../protocol/signature.ts';

const secret = generateSecret();
const minimal = { agent_id: 'prod-1', worker_url: 'https://watchdog.example', secret, probes: [{ type: 'demo' }] };

function errorOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, 'agent.yaml', env);
  } catch (e: unknown) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('agent configuration', () => {
  it('fills documented defaults so a minimal file works', () => {
    const config = parseConfig(minimal, 'agent.yaml', {});
    expect(config).toMatchObject({ agent_id: 'prod-1', interval_s: 15, send_timeout_s: 10, secret, probes: [{ type: 'demo', name: 'demo', labels: {} }] });
    expect(config.grace_s).toBeUndefined();
  });

  it('reads YAML from a file, with the secret from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blindspot-config-'));
    const path = join(dir, 'agent.yaml');
    writeFileSync(path, 'agent_id: edge\nworker_url: http://127.0.0.1:8787\nsecret_env: MY_SECRET\nprobes:\n  - type: prometheus_freshness\n    url: http://127.0.0.1:9090\n    selector: up\n');
    const config = loadConfig(path, { MY_SECRET: secret });
    expect(config.secret).toBe(secret);
    expect(config.probes[0]).toMatchObject({ type: 'prometheus_freshness', name: 'metrics.freshness', timeout_s: 5 });
  });

  it.each([
    ['a missing agent_id', { ...minimal, agent_id: undefined }, /agent_id/],
    ['an upper-case agent_id', { ...minimal, agent_id: 'Prod' }, /agent_id matches/],
    ['a worker_url that is not http(s)', { ...minimal, worker_url: 'ftp://x' }, /worker_url must be an http/],
    ['an unknown top-level key', { ...minimal, intervall_s: 5 }, /unknown key "intervall_s"/],
    ['an unknown probe type', { ...minimal, probes: [{ type: 'graphite' }] }, /probes.0.type: type must be "prometheus_freshness" or "demo"/],
    ['a probe without its url', { ...minimal, probes: [{ type: 'prometheus_freshness', selector: 'up' }] }, /probes.0.url/],
    ['an interval of 0', { ...minimal, interval_s: 0 }, /interval_s is at least 1/],
    ['no probes', { ...minimal, probes: [] }, /at least one probe/],
    ['two ways to give the secret', { ...minimal, secret_env: 'X' }, /only one of secret, secret_env, secret_file/],
    ['a secret without the whsec_ prefix', { ...minimal, secret: 'hunter2' }, /secret: a secret starts with "whsec_"/],
    ['no secret at all', { ...minimal, secret: undefined }, /no secret: set one of secret, secret_env, secret_file, or BLINDSPOT_SECRET/],
    ['a YAML list instead of a mapping', ['x'], /the config is a mapping/],
  ])('refuses %s with a message naming the field', (_label, raw, pattern) => {
    expect(errorOf(raw)).toMatch(pattern);
  });

  it('never echoes a bad secret back', () => {
    const message = errorOf({ ...minimal, secret: 'whsec_c2hvcnQtc2VjcmV0' });
    expect(message).toContain('holds 24 to 64 random bytes');
    expect(message).not.toContain('c2hvcnQtc2VjcmV0');
  });

  it('lets the environment override the file', () => {
    const config = parseConfig(minimal, 'agent.yaml', { BLINDSPOT_WORKER_URL: 'http://127.0.0.1:9999', BLINDSPOT_INTERVAL_S: '30', BLINDSPOT_SECRET: generateSecret() });
    expect(config.worker_url).toBe('http://127.0.0.1:9999');
    expect(config.interval_s).toBe(30);
    expect(config.secret).not.toBe(secret);
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => loadConfig('/nonexistent/agent.yaml', {})).toThrow(/cannot read config file \/nonexistent\/agent.yaml: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'blindspot-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'agent_id: [unclosed');
    expect(() => loadConfig(join(dir, 'bad.yaml'), {})).toThrow(/bad.yaml is not valid YAML/);
  });
});
