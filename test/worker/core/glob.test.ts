// Globs (`*` and `?`) matched without regular expressions: the same answers as the obvious regex
// translation on arbitrary inputs, and hostile patterns answered in a number of steps bounded by
// the pattern's and the name's lengths by construction; more than 8 wildcards is not a glob at all.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGlob, matchesGlob } from '../../../worker/core/glob.ts';

/** The reference: the translation the Worker used to compile (and cache without bound). */
function byRegex(pattern: string, name: string): boolean {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's').test(name);
}

describe('matchesGlob', () => {
  it.each([
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['metrics.*', 'metrics.freshness', true],
    ['metrics.*', 'metric.freshness', false],
    ['*.freshness', 'metrics.freshness', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['**', 'anything', true],
    ['prod-*', 'prod-eu-1', true],
    ['*?', '', false],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(matchesGlob(pattern, name)).toBe(expected);
  });

  it('agrees with the regex translation on arbitrary patterns and names', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '-', '*', '?');
    const text = fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join(''));
    const name = fc.array(fc.constantFrom('a', 'b', '.', '-', '*', '?', 'é'), { maxLength: 16 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(text, name, (p, n) => matchesGlob(p, n) === byRegex(p, n)),
      { numRuns: 5000 },
    );
  });

  it('answers the backtracking pattern (twenty "*?" pairs then a letter) correctly on a long name', () => {
    const hostile = `${'*?'.repeat(20)}Z`;
    expect(isGlob(hostile)).toBe(false);
    expect(isGlob('prod-*-eu-?')).toBe(true);
    expect(isGlob('a'.repeat(129))).toBe(false);
    expect(isGlob('a b')).toBe(false);
    expect(matchesGlob(hostile, 'a'.repeat(200))).toBe(false);
    expect(matchesGlob(hostile, `${'a'.repeat(199)}Z`)).toBe(true);
    expect(matchesGlob(hostile, `${'a'.repeat(19)}Z`)).toBe(false);
  });
});
