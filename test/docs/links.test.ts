/**
 * Every relative link of the README and the manual (docs/**.md) leads somewhere: the file or folder exists, and a
 * #anchor into a Markdown file names one of its headings (GitHub's rule for heading anchors). Links to the web
 * (http:, https:, mailto:) are not followed: no network in tests.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/paths.js';

/** Markdown files under `dir`, generated API pages (docs/api/) left out. */
function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'api' ? [] : markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced and inline code, where Markdown makes links. */
export function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of inline links and images, [text](target) and ![alt](target "title"). */
export function linkTargets(markdown: string): string[] {
  const out: string[] = [];
  for (const m of proseOf(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart === '' ? file : join(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(path)) {
      broken.push(`${target} (no such file)`);
      continue;
    }
    if (anchor && path.endsWith('.md') && statSync(path).isFile() && !headingAnchors(readFileSync(path, 'utf8')).has(anchor)) {
      broken.push(`${target} (no heading #${anchor} in ${relative(packageRoot, path)})`);
    }
  }
  return broken.map((b) => `${relative(packageRoot, file)}: ${b}`);
}

describe('links of the README and the manual', () => {
  it('finds links, anchors and code the way GitHub does', () => {
    assert.deepEqual(linkTargets('[a](x.md) `[b](y.md)` ![c](p.png "t")\n```\n[d](z.md)\n```\n[e](<q r.md>)'), ['x.md', 'p.png']);
    assert.deepEqual([...headingAnchors('# The `sts` command\n## Faithful, where it matters\n## Faithful, where it matters')],
      ['the-sts-command', 'faithful-where-it-matters', 'faithful-where-it-matters-1']);
  });

  it('resolves every relative link and #anchor', () => {
    const files = [join(packageRoot, 'README.md'), ...markdownFiles(join(packageRoot, 'docs'))];
    assert.ok(files.length > 10, `only ${files.length} Markdown files found`);
    assert.deepEqual(files.flatMap(brokenLinks), []);
  });

  it('keeps the README short: at most 8,000 characters', () => {
    const length = [...readFileSync(join(packageRoot, 'README.md'), 'utf8')].length;
    assert.ok(length <= 8000, `README.md has ${length} characters; move detail into docs/ (the manual)`);
  });
});
