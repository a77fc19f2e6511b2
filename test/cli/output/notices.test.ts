import { describe, expect, it } from 'vitest';
import { createNotices, StderrLines } from '../../../src/cli/output';
import { createLogger } from '../../../src/logging';
import { CapturedStream } from '../cli-harness';

function notices(format: 'text' | 'json') {
  const stderr = new CapturedStream();
  const lines = new StderrLines(stderr);
  const logger = createLogger({ format, stream: lines });
  return { stderr, notices: createNotices(format, lines, logger) };
}

describe('createNotices', () => {
  it('writes plain goal-backfill lines in text format', () => {
    const { stderr, notices: n } = notices('text');
    n.info('hello');
    n.warn('careful');
    n.error('broken', 'CODE');
    n.error('plain');
    n.error('odd', 'X1', 'look closer');
    n.detail(['  at a', '  at b']);
    expect(stderr.text).toBe(
      [
        'goal-backfill: hello',
        'goal-backfill: WARNING: careful',
        'goal-backfill: error: broken [CODE]',
        'goal-backfill: error: plain',
        'goal-backfill: error: odd [X1] (look closer)',
        '  at a',
        '  at b',
        '',
      ].join('\n'),
    );
  });

  it('writes log events in json format, so stderr stays one JSON object per line', () => {
    const { stderr, notices: n } = notices('json');
    n.warn('careful');
    n.error('broken', 'CODE');
    const events = stderr.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events).toMatchObject([
      { level: 'warn', message: 'cli.warning', notice: 'careful' },
      { level: 'error', message: 'cli.error', notice: 'broken', code: 'CODE' },
    ]);
  });
});
