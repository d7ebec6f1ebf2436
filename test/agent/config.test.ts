// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${VAR} references on purpose
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../agent/config.ts';
import { generateSecret } from '../../protocol/signature.ts';
import { scratchDir } from '../support/scratch-dir.ts';

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
    expect(config).toMatchObject({
      agent_id: 'prod-1',
      interval_s: 15,
      send_timeout_s: 10,
      secret,
      probes: [{ type: 'demo', name: 'demo', labels: {} }],
    });
    expect(config.grace_s).toBeUndefined();
  });

  it('reads YAML from a file, with the secret from the environment', () => {
    const dir = scratchDir('blindspot-config-');
    const path = join(dir, 'agent.yaml');
    writeFileSync(
      path,
      'agent_id: edge\nworker_url: http://127.0.0.1:8787\nsecret_env: MY_SECRET\nprobes:\n  - type: prometheus_freshness\n    url: http://127.0.0.1:9090\n    selector: up\n',
    );
    const config = loadConfig(path, { MY_SECRET: secret });
    expect(config.secret).toBe(secret);
    expect(config.probes[0]).toMatchObject({ type: 'prometheus_freshness', name: 'metrics.freshness', timeout_s: 5 });
  });

  it.each([
    ['a missing agent_id', { ...minimal, agent_id: undefined }, /agent_id/],
    ['an upper-case agent_id', { ...minimal, agent_id: 'Prod' }, /agent_id matches/],
    ['a worker_url that is not http(s)', { ...minimal, worker_url: 'ftp://x' }, /worker_url must be an http/],
    ['an unknown top-level key', { ...minimal, intervall_s: 5 }, /unknown key "intervall_s"/],
    [
      'an unknown probe type',
      { ...minimal, probes: [{ type: 'graphite' }] },
      /probes.0.type: type must be one of prometheus, alertmanager, otel_collector, pushgateway_canary, promql, prometheus_freshness, demo \(got "graphite"\)/,
    ],
    ['a probe without its url', { ...minimal, probes: [{ type: 'prometheus_freshness', selector: 'up' }] }, /probes.0.url/],
    ['an interval of 0', { ...minimal, interval_s: 0 }, /interval_s is at least 1/],
    ['two ways to give the secret', { ...minimal, secret_env: 'X' }, /only one of secret, secret_env, secret_file/],
    ['a secret without the whsec_ prefix', { ...minimal, secret: 'hunter2' }, /secret: a secret starts with "whsec_"/],
    ['no secret at all', { ...minimal, secret: undefined }, /no secret: set one of secret, secret_env, secret_file, or BLINDSPOT_SECRET/],
    ['a YAML list instead of a mapping', ['x'], /the config is a mapping/],
    [
      'a freshness entry with both selector and job',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', freshness: [{ selector: 'up', job: 'node' }] }] },
      /probes.0.freshness.0: give exactly one of selector/,
    ],
    [
      'a freshness entry with neither',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', freshness: [{ name: 'x' }] }] },
      /give exactly one of selector \(a PromQL series selector\) or job/,
    ],
    [
      'remote_write as a string',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', remote_write: 'yes' }] },
      /remote_write is auto, true or false/,
    ],
    [
      'a typo in a prometheus probe',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', fresness: [] }] },
      /unknown key "fresness": a prometheus probe takes type, name, url, timeout_s, freshness, remote_write, alert_rules, labels/,
    ],
    [
      'a fractional cluster_size',
      { ...minimal, probes: [{ type: 'alertmanager', url: 'http://a:9093', cluster_size: 2.5 }] },
      /cluster_size is a whole number/,
    ],
    [
      'an otel_collector url that is not http',
      { ...minimal, probes: [{ type: 'otel_collector', url: 'file:///metrics' }] },
      /probes.0.url: url must be an http/,
    ],
    [
      'a canary without its Prometheus',
      { ...minimal, probes: [{ type: 'pushgateway_canary', pushgateway_url: 'http://g:9091' }] },
      /probes.0.prometheus_url/,
    ],
    [
      'a canary job with a slash',
      {
        ...minimal,
        probes: [{ type: 'pushgateway_canary', pushgateway_url: 'http://g:9091', prometheus_url: 'http://p:9090', job: 'a/b' }],
      },
      /job looks like a Prometheus label value without slashes/,
    ],
    [
      'a promql probe without a name',
      { ...minimal, probes: [{ type: 'promql', url: 'http://p:9090', query: 'up', kind: 'dropped' }] },
      /probes.0.name/,
    ],
    [
      'a promql probe of an unknown kind',
      { ...minimal, probes: [{ type: 'promql', name: 'lag', url: 'http://p:9090', query: 'up', kind: 'lag' }] },
      /kind is one of freshness, sampling, dropped, queue_age, saturation/,
    ],
    [
      'a promql on_empty that is neither',
      { ...minimal, probes: [{ type: 'promql', name: 'lag', url: 'http://p:9090', query: 'up', kind: 'dropped', on_empty: 'ignore' }] },
      /on_empty is unknown or zero/,
    ],
    [
      'an alert_rules lookback that is not a duration',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', alert_rules: { lookback: 'forever' } }] },
      /probes.0.alert_rules.lookback: lookback is a Prometheus duration/,
    ],
    [
      'alert_rules: true (it is on by default; false turns it off)',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', alert_rules: true }] },
      /alert_rules is false or \{ lookback, recheck_s, max_queries \}/,
    ],
    [
      'an alert_rules max_queries of 0',
      { ...minimal, probes: [{ type: 'prometheus', url: 'http://p:9090', alert_rules: { max_queries: 0 } }] },
      /alert_rules.max_queries/,
    ],
    [
      'a missing agent_id',
      { worker_url: 'http://w', secret: 'x', probes: [{ type: 'demo' }] },
      /agent_id: is required; the top-level keys are agent_id, worker_url/,
    ],
    [
      'a prometheus probe without its url',
      { ...minimal, probes: [{ type: 'prometheus' }] },
      /probes\.0\.url: is required: a prometheus probe takes type, name, url/,
    ],
    ['two probes with the same name', { ...minimal, probes: [{ type: 'demo' }, { type: 'demo' }] }, /two probes share a name/],
    [
      'a number variable that is not a number',
      { ...minimal },
      /BLINDSPOT_INTERVAL_S="soon": interval_s is a number/,
      { BLINDSPOT_INTERVAL_S: 'soon' },
    ],
    [
      'a label list without =',
      { ...minimal },
      /BLINDSPOT_LABELS is a list of key=value pairs separated by commas \(got "prod"\)/,
      { BLINDSPOT_LABELS: 'region=eu,prod' },
    ],
    ['a label name that is not a label name', { ...minimal }, /labels/, { BLINDSPOT_LABELS: 'bad-name=1' }],
  ] as [string, unknown, RegExp, NodeJS.ProcessEnv?][])('refuses %s with a message naming the field', (_label, raw, pattern, env) => {
    expect(errorOf(raw, env)).toMatch(pattern);
  });

  it('never echoes a bad secret back', () => {
    const message = errorOf({ ...minimal, secret: 'whsec_c2hvcnQtc2VjcmV0' });
    expect(message).toContain('holds 24 to 64 random bytes');
    expect(message).not.toContain('c2hvcnQtc2VjcmV0');
  });

  it('lets the environment override the file', () => {
    const config = parseConfig(minimal, 'agent.yaml', {
      BLINDSPOT_WORKER_URL: 'http://127.0.0.1:9999',
      BLINDSPOT_INTERVAL_S: '30',
      BLINDSPOT_SECRET: generateSecret(),
    });
    expect(config.worker_url).toBe('http://127.0.0.1:9999');
    expect(config.interval_s).toBe(30);
    expect(config.secret).not.toBe(secret);
  });

  it('fills the defaults of every probe type', () => {
    const config = parseConfig(
      {
        ...minimal,
        probes: [
          { type: 'prometheus', url: 'http://p:9090', freshness: [{ job: 'node' }, { selector: 'up', name: 'self.freshness' }] },
          { type: 'alertmanager', url: 'http://a:9093' },
          { type: 'otel_collector' },
          { type: 'pushgateway_canary', pushgateway_url: 'http://g:9091', prometheus_url: 'http://p:9090' },
          {
            type: 'promql',
            name: 'loki.discarded',
            url: 'http://p:9090',
            query: 'sum(increase(loki_discarded_samples_total[1m]))',
            kind: 'dropped',
          },
        ],
      },
      'agent.yaml',
      {},
    );
    expect(config.probes).toEqual([
      {
        type: 'prometheus',
        name: 'prometheus',
        url: 'http://p:9090',
        timeout_s: 5,
        remote_write: 'auto',
        alert_rules: { lookback: '10m', recheck_s: 300, max_queries: 25 },
        labels: {},
        freshness: [
          { name: 'metrics.freshness', job: 'node', lookback: '1h', labels: {} },
          { name: 'self.freshness', selector: 'up', lookback: '1h', labels: {} },
        ],
      },
      { type: 'alertmanager', name: 'alertmanager', url: 'http://a:9093', timeout_s: 5, silence_max_age_s: 604800, labels: {} },
      { type: 'otel_collector', name: 'otelcol', url: 'http://127.0.0.1:8888/metrics', timeout_s: 5, labels: {} },
      {
        type: 'pushgateway_canary',
        name: 'canary',
        pushgateway_url: 'http://g:9091',
        prometheus_url: 'http://p:9090',
        job: 'blindspot_canary',
        timeout_s: 5,
        labels: {},
      },
      {
        type: 'promql',
        name: 'loki.discarded',
        url: 'http://p:9090',
        query: 'sum(increase(loki_discarded_samples_total[1m]))',
        kind: 'dropped',
        timeout_s: 5,
        on_empty: 'unknown',
        series_labels: [],
        labels: {},
      },
    ]);
  });

  it('takes every top-level setting from BLINDSPOT_<KEY>, and labels in the OTEL_RESOURCE_ATTRIBUTES form', () => {
    const config = parseConfig({ ...minimal, labels: { team: 'sre', env: 'staging' } }, 'agent.yaml', {
      BLINDSPOT_AGENT_ID: 'from-env',
      BLINDSPOT_GRACE_S: '20',
      BLINDSPOT_SEND_TIMEOUT_S: '3',
      BLINDSPOT_SPOOL_DIR: '/var/lib/blindspot/spool',
      BLINDSPOT_SPOOL_MAX_MB: '64',
      BLINDSPOT_SPOOL_MAX_AGE_H: '24',
      BLINDSPOT_LABELS: 'env=prod, region=eu%2Cwest ,',
      BLINDSPOT_INTERVAL_S: '',
    });
    expect(config).toMatchObject({
      agent_id: 'from-env',
      grace_s: 20,
      send_timeout_s: 3,
      spool_dir: '/var/lib/blindspot/spool',
      spool_max_mb: 64,
      spool_max_age_h: 24,
      interval_s: 15,
    });
    expect(config.labels).toEqual({ team: 'sre', env: 'prod', region: 'eu,west' });
  });

  it('lets BLINDSPOT_SECRET_FILE replace a secret given in the file', () => {
    const dir = scratchDir('blindspot-config-');
    const other = generateSecret();
    writeFileSync(join(dir, 'secret'), `${other}\n`);
    expect(parseConfig(minimal, 'agent.yaml', { BLINDSPOT_SECRET_FILE: join(dir, 'secret') }).secret).toBe(other);
  });

  it.each(['agent.yaml', 'stack-agent.yaml', 'demo-agent.yaml'])('accepts the shipped example examples/%s', (name) => {
    const config = loadConfig(join('examples', name), { BLINDSPOT_SECRET: secret });
    expect(config.probes.length).toBeGreaterThan(0);
  });

  it('names the file when it cannot be read or parsed', () => {
    expect(() => loadConfig('/nonexistent/agent.yaml', {})).toThrow(/cannot read config file \/nonexistent\/agent.yaml: ENOENT/);
    const dir = scratchDir('blindspot-config-');
    writeFileSync(join(dir, 'bad.yaml'), 'agent_id: edge\nworker_url: [unclosed\n');
    // The YAML library's own position and code frame, not a dangling first line.
    expect(() => loadConfig(join(dir, 'bad.yaml'), {})).toThrow(/bad\.yaml:\d+:\d+: not valid YAML: .*\n.*worker_url: \[unclosed/s);
  });

  describe('${VAR} in values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blindspot-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const secret = generateSecret();
    const body = (worker: string) =>
      `agent_id: edge\nworker_url: ${worker}\nsecret_env: AGENT_SECRET\nprobes:\n  - { type: promql, name: q, url: "\${env:PROM_URL}", query: 'up{job=~"a$$"}', kind: dropped }\n`;

    it('expands ${VAR} and ${env:VAR} from the environment, and $$ to a literal $', () => {
      const config = loadConfig(file('ok.yaml', body('https://${WORKER_HOST}/')), {
        WORKER_HOST: 'blindspot.example.com',
        PROM_URL: 'http://prometheus:9090',
        AGENT_SECRET: secret,
      });
      expect(config.worker_url).toBe('https://blindspot.example.com/');
      expect(config.probes[0]).toMatchObject({ url: 'http://prometheus:9090', query: 'up{job=~"a$"}' });
    });

    it('names the file, line and column of a variable that is not set, and the fix', () => {
      expect(() =>
        loadConfig(file('unset.yaml', body('https://${WORKER_HOST}/')), { PROM_URL: 'http://p:9090', AGENT_SECRET: secret }),
      ).toThrow(
        /unset\.yaml:2:21: worker_url: \$\{WORKER_HOST\} is used, but the environment variable WORKER_HOST is not set: set it, or write \$\$\{WORKER_HOST\} for the literal text/,
      );
    });

    it('refuses what is not a variable reference, naming the fix', () => {
      expect(() => loadConfig(file('bad-ref.yaml', body('https://${not a name}/')), { PROM_URL: 'x', AGENT_SECRET: secret })).toThrow(
        /bad-ref\.yaml:2:21: worker_url: \$\{not a name\} is not a variable reference/,
      );
    });

    it('never lets a value change the structure of the file', () => {
      const config = loadConfig(
        file('inject.yaml', body('https://w.example.com/').replace('${env:PROM_URL}', 'http://p:9090/${PATH_PART}')),
        {
          PATH_PART: 'x"\nagent_id: someone-else\n',
          AGENT_SECRET: secret,
        },
      );
      expect(config.agent_id).toBe('edge');
      expect(config.probes[0]).toMatchObject({ url: 'http://p:9090/x"\nagent_id: someone-else\n' });
    });
  });
});
