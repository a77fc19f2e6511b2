import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/run-command';

/**
 * Every path of this repository that a document cites in a code span (`src/…`, `test/…`,
 * `migrations/…`, …) is a file or folder that exists, so a reader who follows the docs into the
 * code finds what they name. A path with a placeholder (`<name>`, `*`, `…`) is a pattern, not a
 * citation, and is left out; so is a `:line` suffix, which only the file part is checked for.
 */

const CITED_ROOTS = ['src', 'test', 'migrations', 'seeds', 'scripts', 'bench', 'docs'];
const CITATION = new RegExp(`\`((?:${CITED_ROOTS.join('|')})/[^\`\\s]+)\``, 'g');

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : markdownFiles(relative);
    return entry.name.endsWith('.md') ? [relative] : [];
  });
}

function citationsIn(file: string): string[] {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  return [...text.matchAll(CITATION)]
    .map((match) => (match[1] ?? '').replace(/:\d+(-\d+)?$/, '').replace(/[.,;)]+$/, ''))
    .filter((cited) => !/[<>*…{}]|\.\.\./.test(cited));
}

const documents = ['README.md', ...markdownFiles('docs')];

describe('paths the docs cite', () => {
  it('finds citations to check (the pattern still matches how the docs write paths)', () => {
    expect(documents.flatMap(citationsIn).length).toBeGreaterThan(20);
  });

  it.each(documents)('%s cites only paths that exist', (document) => {
    const missing = citationsIn(document).filter(
      (cited) => !existsSync(path.join(PROJECT_ROOT, cited)),
    );
    expect(missing).toEqual([]);
  });
});
