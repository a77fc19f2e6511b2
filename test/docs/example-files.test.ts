import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_KINDS, documentedFiles } from '../support/app-kinds';
import { PROJECT_ROOT } from '../support/run-command';

/**
 * A fenced block whose info string names a file (```js file=examples/consumer/knexfile.js) is
 * that file of docs/, printed whole: the migration files the guide tells an app to write are the
 * ones test/package/app-kinds.e2e.test.ts deploys, and an edit to one side alone fails here.
 */

const DOCUMENTS = ['docs/migration-guide.md', 'docs/library.md'];

interface FileBlock {
  document: string;
  file: string;
  printed: string;
}

function fileBlocks(document: string): FileBlock[] {
  const text = readFileSync(path.join(PROJECT_ROOT, document), 'utf8');
  return [...text.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map((match) => ({
    document,
    file: match[1] ?? '',
    printed: match[2] ?? '',
  }));
}

const blocks = DOCUMENTS.flatMap(fileBlocks);

describe('the example files the docs print', () => {
  it.each(blocks)('$document prints $file as it is', ({ file, printed }) => {
    expect(printed).toBe(readFileSync(path.join(PROJECT_ROOT, 'docs', file), 'utf8'));
  });

  it.each(APP_KINDS)(
    'the migration guide prints every file of the $title app that the package test deploys',
    (kind) => {
      const printed = blocks
        .filter((block) => block.document === 'docs/migration-guide.md')
        .map((block) => block.file);
      expect(printed).toEqual(expect.arrayContaining(documentedFiles(kind)));
    },
  );
});
