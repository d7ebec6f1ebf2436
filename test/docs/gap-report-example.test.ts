// The worked example in docs/gap-report.md of the gap report is this scenario's real output: an outage on the
// bundled configuration, reported by the same code the Worker runs. If the report changes, this
// test says so, and docs/gap-report.md is regenerated with: npx tsx test/docs/gap-report-example.ts
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleMarkdown, README_END, README_START } from './gap-report-example.ts';

describe('the gap report example in docs/gap-report.md', () => {
  it('is what the report says for its scenario', () => {
    const readme = readFileSync('docs/gap-report.md', 'utf8');
    const start = readme.indexOf(README_START);
    const end = readme.indexOf(README_END);
    expect(start, 'docs/gap-report.md has the example markers').toBeGreaterThan(0);
    expect(readme.slice(start + README_START.length, end)).toBe(`\n${exampleMarkdown()}`);
  });
});
