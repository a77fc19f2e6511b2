/**
 * npm run lint:test-layout
 *
 * test/ mirrors src/: every test file names the src file it tests, and every src file has a test.
 * A test of src/<path>.ts is test/<path>.test.ts, or test/<path>-<aspect>.test.ts, or
 * test/<path>/<aspect>.test.ts for a file with many aspects. `.e2e` and `.property` before
 * `.test.ts` mark the kind of test, not its subject. Package-level tests (test/package: the
 * packed tarball in an app; test/docs: the shipped documents) and test/support have no src file.
 * It prints one line per problem and exits 1 if there is any.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const print = (line: string) => process.stdout.write(`${line}\n`);
const ROOT = path.resolve(__dirname, '..');
const PACKAGE_LEVEL = ['support', 'package', 'docs'];
/** src files whose behaviour is tested only through another file's tests, each with why. */
const TESTED_THROUGH: Record<string, string> = {
  index: 'the public API: test/package installs the tarball and imports it',
  'cli/bin': 'the executable: test/cli/main tests run it as a process',
};

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

const subjects = filesUnder(path.join(ROOT, 'src'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.relative(path.join(ROOT, 'src'), file).replace(/\.ts$/, ''))
  .sort((a, b) => b.length - a.length);

const tests = filesUnder(path.join(ROOT, 'test'))
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => path.relative(path.join(ROOT, 'test'), file));

const problems: string[] = [];
const tested = new Set<string>();
for (const test of tests) {
  if (PACKAGE_LEVEL.includes(test.split(path.sep)[0] ?? '')) continue;
  const stem = test.replace(/(\.e2e|\.property)*\.test\.ts$/, '');
  const subject = subjects.find(
    (candidate) =>
      stem === candidate || stem.startsWith(`${candidate}-`) || stem.startsWith(`${candidate}/`),
  );
  if (subject === undefined) {
    problems.push(`test/${test}: names no src file (expected test/<src path>[-aspect].test.ts)`);
  } else {
    tested.add(subject);
  }
}
for (const subject of subjects) {
  if (!tested.has(subject) && !(subject in TESTED_THROUGH)) {
    problems.push(`src/${subject}.ts: no test/${subject}.test.ts (or -<aspect>)`);
  }
}

for (const problem of problems.sort()) print(problem);
if (problems.length > 0) {
  print(`test layout: ${problems.length} problem(s)`);
  process.exitCode = 1;
} else {
  print(`test layout: ${tests.length} test files mirror ${subjects.length} src files`);
}
