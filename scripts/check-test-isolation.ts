/**
 * npm run lint:test-isolation
 *
 * A test never depends on what other databases on the server hold. The server-wide views,
 * pg_locks and pg_stat_activity, show every database's sessions and locks, and the test suites
 * run files side by side (the PG matrix two at a time), so every query of them in test/ must
 * narrow itself to the test's own database (`current_database()`, `datname`) or to one backend
 * (`pid = …`, `pid <> …`, `pid IN …`). It reads each string and template literal of test/ and
 * prints one line per query that does neither; it exits 1 if there is any.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const print = (line: string) => process.stdout.write(`${line}\n`);
const ROOT = path.resolve(__dirname, '..');
const SERVER_WIDE = /\b(pg_locks|pg_stat_activity)\b/;
const NARROWED = /current_database\(\)|\bdatname\b|\bpid\s*(=|<>|!=|IN\b)/i;
const LITERAL = /`[^`]*`|'[^'\n]*'|"[^"\n]*"/g;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? filesUnder(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const problems: string[] = [];
for (const file of filesUnder(path.join(ROOT, 'test'))) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(LITERAL)) {
    const query = match[0];
    if (!SERVER_WIDE.test(query) || NARROWED.test(query)) continue;
    const line = text.slice(0, match.index).split('\n').length;
    problems.push(
      `${path.relative(ROOT, file)}:${line}: reads ${query.match(SERVER_WIDE)?.[1]} for the whole server; narrow it to current_database() or a pid`,
    );
  }
}

for (const problem of problems) print(problem);
if (problems.length > 0) {
  print(`test isolation: ${problems.length} problem(s)`);
  process.exitCode = 1;
} else {
  print('test isolation: every pg_locks and pg_stat_activity query in test/ is narrowed');
}
