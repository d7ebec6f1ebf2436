// The Grafana dashboard for the watchdog (examples/grafana-dashboard.json): it imports as a dashboard
// (unique panel ids, no overlapping panels, a Prometheus data source variable), and every query
// parses as PromQL with Prometheus's own grammar and asks only for series the Worker's /metrics
// exposes (or up). The rule file is held to the same names.
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
  targets: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync('examples/grafana-dashboard.json', 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};

/** What the Worker's /metrics exposes, read from the route that writes it. */
const EXPOSED = new Set([...readFileSync('worker/routes/metrics.ts', 'utf8').matchAll(/name: '(blindspot_[a-z0-9_]+)'/g)].map((m) => m[1]));

/** The metric names an expression selects; throws where it does not parse. */
function metricNames(expr: string): string[] {
  const text = expr.replaceAll('$job', 'blindspot');
  const tree = parser.parse(text);
  const names: string[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) throw new Error(`does not parse as PromQL near ${JSON.stringify(text.slice(n.from, n.from + 30))}: ${expr}`);
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        if (id !== null) names.push(text.slice(id.from, id.to));
      }
    },
  });
  return names;
}

describe('examples/grafana-dashboard.json', () => {
  it('is a dashboard Grafana imports: a uid, unique panel ids, panels that do not overlap, a data source variable', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax
      expect(p.datasource.uid).toBe('${datasource}');
    }
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('asks only for what the Worker exposes, in PromQL that parses', () => {
    expect(EXPOSED.size).toBeGreaterThanOrEqual(10);
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr))));
    for (const name of used) expect(name === 'up' || EXPOSED.has(name), `${name} is not on /metrics`).toBe(true);
    // Every series the Worker exposes is on the dashboard.
    for (const name of EXPOSED) expect(used, `${name} has no panel`).toContain(name);
  });

  it('the check catches a wrong name and a broken query', () => {
    expect(metricNames('blindspot_outbox_pendin{job="$job"}')).toEqual(['blindspot_outbox_pendin']);
    expect(() => metricNames('sum by (cause (blindspot_windows_open)')).toThrow(/does not parse/);
  });
});

describe('examples/prometheus-rules.yml', () => {
  it('alerts only on series the Worker exposes (or up)', () => {
    const rules = (
      parseYaml(readFileSync('examples/prometheus-rules.yml', 'utf8')) as { groups: { rules: { expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    for (const r of rules) for (const name of metricNames(r.expr)) expect(name === 'up' || EXPOSED.has(name), name).toBe(true);
  });
});
