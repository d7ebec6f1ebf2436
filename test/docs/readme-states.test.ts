// The README's table of states says, word for word, what every surface shows (worker/core/status-words.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPONENT_STATUSES } from '../../worker/core/component-view.ts';
import { STATUS_WORDS } from '../../worker/core/status-words.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function tableRows(): string[][] {
  const start = readme.indexOf('| state | the page says |');
  expect(start, 'the README has its table of states').toBeGreaterThan(-1);
  const lines = readme.slice(start).split('\n');
  const rows: string[][] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe("the README's table of states", () => {
  it('has one row per state, in order, each with the label, Statuspage status and badge the surfaces use', () => {
    const rows = tableRows();
    expect(rows.map((r) => r[0])).toEqual(COMPONENT_STATUSES.map((s) => `\`${s}\``));
    for (const [state, label, statuspage, badge] of rows) {
      const words = STATUS_WORDS[(state as string).replaceAll('`', '') as keyof typeof STATUS_WORDS];
      expect(label, state).toBe(words.label);
      expect(statuspage, state).toBe(`\`${words.statuspage}\``);
      expect(badge, state).toBe(`${words.badge.message}, ${words.badge.color}`);
    }
  });
});
