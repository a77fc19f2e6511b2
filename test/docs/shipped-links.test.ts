import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES_EPILOGUE } from '../../src/cli/flags';
import { packedFiles } from '../support/packed-app';
import { PROJECT_ROOT } from '../support/run-command';

/**
 * What an app that installed the packed tarball can read: every relative link of a shipped
 * Markdown file, and every doc the CLI's help names, is a file in the tarball. The file list is
 * npm's own (`npm pack --dry-run`, without the build: docs link no built file).
 */

interface Link {
  /** The shipped Markdown file the link is in. */
  from: string;
  /** The link as written. */
  target: string;
  /** The path in the package it points at, without its #anchor. */
  resolved: string;
  anchor: string | null;
}

let shipped: Set<string>;

beforeAll(async () => {
  shipped = new Set(await packedFiles());
}, 60_000);

/** A shipped file, or a folder holding one. */
function isShipped(file: string): boolean {
  const folder = file.endsWith('/') ? file : `${file}/`;
  return shipped.has(file) || [...shipped].some((candidate) => candidate.startsWith(folder));
}

/** Markdown without its fenced blocks and code spans, where a `[x](y)` is no link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The relative links of `file` (`#anchor` alone is one to itself): inline and reference links. */
function relativeLinks(file: string): Link[] {
  const text = prose(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? ''),
    ...[...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map(
      (m) => m[1] ?? '',
    ),
  ];
  return targets
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [where = '', anchor] = target.split('#');
      const resolved =
        where === ''
          ? file
          : path.posix.normalize(path.posix.join(path.posix.dirname(file), where));
      return { from: file, target, resolved, anchor: anchor ?? null };
    });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, numbered as GitHub numbers repeated ones. */
function anchorsOf(file: string): Set<string> {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8').replace(
    /^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm,
    '',
  );
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ''] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading);
    const times = seen.get(base) ?? 0;
    seen.set(base, times + 1);
    anchors.add(times === 0 ? base : `${base}-${times}`);
  }
  return anchors;
}

describe('the docs an installed package ships', () => {
  it('ship the README, the library and CLI guides, and every JSON schema', () => {
    for (const file of ['README.md', 'docs/library.md', 'docs/cli.md']) {
      expect(shipped.has(file), file).toBe(true);
    }
    expect([...shipped].filter((file) => file.startsWith('docs/schemas/')).sort()).toEqual([
      'docs/schemas/rollback-result.schema.json',
      'docs/schemas/run-result.schema.json',
      'docs/schemas/status.schema.json',
    ]);
  });

  it('link only to files the package ships, and to headings those files have', () => {
    const markdown = [...shipped].filter((file) => file.endsWith('.md'));
    const links = markdown.flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(20);
    const missing = links.filter((link) => !isShipped(link.resolved));
    expect(missing.map((link) => `${link.from} -> ${link.target}`)).toEqual([]);
    const badAnchors = links.filter(
      (link) =>
        link.anchor !== null &&
        link.resolved.endsWith('.md') &&
        !anchorsOf(link.resolved).has(link.anchor),
    );
    expect(badAnchors.map((link) => `${link.from} -> ${link.target}`)).toEqual([]);
  });

  it('hold every doc the CLI help points at', () => {
    const named = [...EXIT_CODES_EPILOGUE.matchAll(/docs\/[\w./-]+\.md/g)].map((m) => m[0]);
    expect(named).toContain('docs/cli.md');
    for (const file of named) expect(shipped.has(file), file).toBe(true);
  });
});
