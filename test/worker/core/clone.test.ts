import { describe, expect, it } from 'vitest';
import { clonePlain } from '../../../worker/core/clone.ts';

describe('clonePlain', () => {
  it('copies nested plain data deeply: changing the copy leaves the original as it was', () => {
    const original = { a: 1, b: { c: [1, { d: 'x' }], e: null, f: true }, g: undefined as number | undefined };
    const copy = clonePlain(original);
    expect(copy).toEqual(original);
    expect('g' in copy).toBe(true);
    copy.b.c.push(3);
    (copy.b.c[1] as { d: string }).d = 'y';
    copy.a = 2;
    expect(original).toEqual({ a: 1, b: { c: [1, { d: 'x' }], e: null, f: true }, g: undefined });
  });

  it('gives back what is not an object as it is', () => {
    expect(clonePlain(5)).toBe(5);
    expect(clonePlain('s')).toBe('s');
    expect(clonePlain(null)).toBe(null);
  });
});
