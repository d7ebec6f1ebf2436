// The files vitest.config.ts starts first must exist: a renamed one would silently start last again.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { LONGEST_FIRST } from '../support/longest-first.ts';

it('every file the test run starts first exists', () => {
  expect(LONGEST_FIRST.length).toBeGreaterThan(0);
  for (const f of LONGEST_FIRST) expect(existsSync(f), f).toBe(true);
});
