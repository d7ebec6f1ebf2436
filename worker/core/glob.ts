// Signal and agent names have no path separators, so a glob here is only `*` (any run of
// characters) and `?` (one character); everything else matches itself.
const cache = new Map<string, RegExp>();

export function matchesGlob(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  let re = cache.get(pattern);
  if (re === undefined) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    cache.set(pattern, re);
  }
  return re.test(name);
}
