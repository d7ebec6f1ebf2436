// The docs as a reader finds them: the README is short and links every page in docs/, and every
// relative link in the README and the docs leads to a file that exists and, with an anchor, to a
// heading in it (GitHub's anchor rules). Links are read with a Markdown parser, so code is skipped.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';

const md = new MarkdownIt();
const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'test/sim/README.md',
];

/** GitHub's heading anchor: lower case, punctuation dropped (but - and _), spaces to -; repeats get -1, -2. */
function anchorsOf(file: string): Set<string> {
  const tokens = md.parse(readFileSync(file, 'utf8'), {});
  const seen = new Map<string, number>();
  const out = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const text = (tokens[i + 1]?.children ?? []).map((c) => c.content).join('');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  });
  return out;
}

function linksOf(file: string): string[] {
  const out: string[] = [];
  const walk = (tokens: ReturnType<typeof md.parse>) => {
    for (const t of tokens) {
      if (t.type === 'link_open') out.push(String(t.attrGet('href') ?? ''));
      if (t.type === 'image') out.push(String(t.attrGet('src') ?? ''));
      if (t.children) walk(t.children);
    }
  };
  walk(md.parse(readFileSync(file, 'utf8'), {}));
  return out.filter((href) => !/^[a-z]+:/i.test(href));
}

describe('the docs', () => {
  it('the README fits in about 250 lines and links every page in docs/', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    const linked = new Set(linksOf('README.md').map((h) => h.split('#')[0]));
    for (const page of PAGES.filter((p) => p.startsWith('docs/'))) expect(linked, `README links ${page}`).toContain(page);
  });

  for (const page of PAGES)
    it(`every relative link in ${page} leads somewhere`, () => {
      const broken: string[] = [];
      for (const href of linksOf(page)) {
        const [path = '', anchor] = href.split('#');
        const target = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
        if (!existsSync(target)) broken.push(`${href}: no file ${target}`);
        else if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor))
          broken.push(`${href}: no heading #${anchor} in ${target}`);
      }
      expect(broken).toEqual([]);
    });

  it('the check finds a broken anchor', () => {
    expect(anchorsOf('README.md').has('quick-start')).toBe(true);
    expect(anchorsOf('README.md').has('no-such-heading')).toBe(false);
  });
});
