// The deployment files a user applies: the Kubernetes manifests validate against the Kubernetes API
// schemas (kubernetes-models, the OpenAPI schemas compiled), the agent configuration they carry passes
// the agent's own validator, and the container build file passes a Dockerfile linter (dockerfile-utils).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig } from '../../agent/config.ts';
import { generateSecret } from '../../protocol/signature.ts';
import pkg from '../../package.json' with { type: 'json' };

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML until a model checks them
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

const MODELS: Record<string, new (m: Manifest) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount as never,
  'v1/ConfigMap': ConfigMap as never,
  'apps/v1/Deployment': Deployment as never,
};

const DIR = 'deploy/kubernetes';
const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Manifest));

function check(m: Manifest): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (Model === undefined) throw new Error(`${m.apiVersion} ${m.kind} has no schema in this test: add its model`);
  new Model(m).validate();
}

describe('Kubernetes manifests', () => {
  it('each validates against the Kubernetes API schema', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'ServiceAccount']);
    for (const m of manifests) expect(() => check(m), `${m.kind} ${m.metadata.name}`).not.toThrow();
  });

  it('a broken manifest is refused by the same check', () => {
    const deployment = structuredClone(manifests.find((m) => m.kind === 'Deployment') as Manifest);
    deployment.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
    expect(() => check(deployment)).toThrow(/imagePullPolicy/);
    deployment.spec.template.spec.containers[0] = { name: 'agent', image: 3 };
    expect(() => check(deployment)).toThrow(/image must be string/);
  });

  it('runs one agent at a time, of this release, without root, with its secret from a Secret', () => {
    const d = manifests.find((m) => m.kind === 'Deployment') as Manifest;
    expect(d.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const container = d.spec.template.spec.containers[0];
    expect(container.image).toBe(`blindspot-agent:${pkg.version}`);
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    const secretEnv = container.env.find((e: { valueFrom?: unknown }) => e.valueFrom !== undefined);
    expect(secretEnv.valueFrom.secretKeyRef).toBeDefined();
    // The configuration reads the secret from the variable the Deployment sets.
    const config = parseYaml((manifests.find((m) => m.kind === 'ConfigMap') as Manifest).data['agent.yaml']);
    expect(config.secret_env).toBe(secretEnv.name);
  });

  it('the agent configuration in the ConfigMap passes the agent’s validator', () => {
    const text = (manifests.find((m) => m.kind === 'ConfigMap') as Manifest).data['agent.yaml'];
    const config = parseConfig(parseYaml(text), 'ConfigMap blindspot-agent', { BLINDSPOT_AGENT_SECRET: generateSecret() });
    expect(config.interval_s).toBe(15);
    expect(config.probes.map((p) => p.type)).toEqual(['prometheus', 'alertmanager']);
  });
});

describe('the container build file', () => {
  const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');

  it('passes the Dockerfile linter', () => {
    expect(lintDockerfile(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the linter finds what is wrong in a broken one', () => {
    const broken = lintDockerfile('FROM node:24\nEXPOSE port\nUSER node\n');
    expect(broken.map((d) => [d.range.start.line + 1, d.message])).toEqual([[2, 'Invalid containerPort: port']]);
  });

  it('installs the packed release on a Node the package supports, and does not run as root', () => {
    expect(dockerfile).toMatch(/^COPY blindspot-\*\.tgz /m);
    const node = /^FROM node:(\d+)\./m.exec(dockerfile)?.[1];
    expect(Number(node)).toBeGreaterThanOrEqual(Number(/>=(\d+)/.exec(pkg.engines.node)?.[1]));
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
