import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorLogFile } from '../../src/cli/run';
import { UsageError } from '../../src/errors';
import { errorLogLine } from '../../src/report';

let directory: string | null = null;

afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = null;
});

const failure = {
  sessionId: 's-1',
  patientId: 'p-1',
  sqlState: '23514',
  message: 'check_violation',
};

describe('errorLogLine', () => {
  it('is one JSON line with exactly the four fields, whatever else the failure carries', () => {
    const line = errorLogLine({ ...failure, extra: 'not for the log' } as typeof failure);
    expect(line).toBe(
      '{"sessionId":"s-1","patientId":"p-1","sqlState":"23514","message":"check_violation"}\n',
    );
  });
});

describe('ErrorLogFile', () => {
  it('writes one line per failure, replacing an older file', () => {
    directory = mkdtempSync(path.join(tmpdir(), 'cli-error-log-'));
    const file = path.join(directory, 'failures.jsonl');
    const first = ErrorLogFile.open(file);
    first.write(failure);
    first.close();
    const second = ErrorLogFile.open(file);
    second.write(failure);
    second.write({ ...failure, sessionId: 's-2', sqlState: null });
    second.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).sessionId)).toEqual(['s-1', 's-2']);
  });

  it('refuses a path it cannot create, saying what to fix', () => {
    expect(() => ErrorLogFile.open('/nonexistent-dir-for-cli-test/x.jsonl')).toThrow(UsageError);
    expect(() => ErrorLogFile.open('/nonexistent-dir-for-cli-test/x.jsonl')).toThrow(
      /cannot write the error log \/nonexistent-dir-for-cli-test\/x\.jsonl \(ENOENT\)/,
    );
  });
});
