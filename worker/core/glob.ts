// Signal, agent and monitor names have no path separators, so a glob here is only `*` (any run of
// characters) and `?` (one character); everything else matches itself. Matching walks the name once
// per star at most (the classic two-pointer match): no regular expression, no cache, nothing a
// hostile pattern can make slow or large.

const GLOB_CHARS = /^[A-Za-z0-9_.:*?-]{1,128}$/;
export const MAX_WILDCARDS = 8;
export const GLOB_HINT = `uses letters, digits, _ . : - and at most ${MAX_WILDCARDS} wildcards * and ? (128 characters in all)`;

/** What a glob may be wherever one is accepted (configuration, admin API, gap report query). */
export function isGlob(s: string): boolean {
  return GLOB_CHARS.test(s) && s.replace(/[^*?]/g, '').length <= MAX_WILDCARDS;
}

export function matchesGlob(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  let p = 0;
  let s = 0;
  // The last star seen, and the name position it is currently taken to cover up to.
  let star = -1;
  let covered = 0;
  while (s < name.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      covered = s;
    } else if (p < pattern.length && (c === '?' || c === name[s])) {
      p++;
      s++;
    } else if (star !== -1) {
      p = star + 1;
      s = ++covered;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
