import { describe, expect, it } from 'vitest';
import { StderrLines, TerminalProgressBar } from '../../../src/cli/output';
import { CapturedStream } from '../cli-harness';

function report(sessionsProcessed: number, elapsedMs: number) {
  return {
    runId: null,
    sessionsProcessed,
    totalSessions: 1000,
    goalsCreated: 0,
    errors: 0,
    elapsedMs,
  };
}

function terminal(): CapturedStream {
  const stderr = new CapturedStream();
  stderr.isTTY = true;
  return stderr;
}

describe('TerminalProgressBar', () => {
  it('draws done / total, the rate and the time left, and finishes on its own line', () => {
    const stderr = terminal();
    const bar = new TerminalProgressBar(stderr, new StderrLines(stderr), 100);
    bar.update(report(100, 500));
    bar.update(report(400, 2000));
    bar.stop();
    expect(stderr.text).toMatch(/\| 400\/1000 sessions \| 200 sessions\/s \| ETA \S+/);
    expect(stderr.text.endsWith('\n')).toBe(true);
  });

  it('counts only this invocation when a resumed run reports earlier sessions', () => {
    const stderr = terminal();
    const bar = new TerminalProgressBar(stderr, new StderrLines(stderr), 100);
    // 500 sessions came from the run this one resumed; the first page read 100 of them in 1 s.
    bar.update(report(600, 1000));
    bar.stop();
    expect(stderr.text).toContain('| 600/1000 sessions | 100 sessions/s | ETA');
  });

  it('prints log lines above the bar while it is drawn, and straight out after', () => {
    const stderr = terminal();
    const lines = new StderrLines(stderr);
    const bar = new TerminalProgressBar(stderr, lines, 10);
    bar.update(report(10, 100));
    lines.line('a log line');
    bar.update(report(20, 200));
    bar.stop();
    const drawn = stderr.text;
    // cli-progress clears the bar's line, prints the log line, then draws the bar below it.
    expect(drawn).toContain('\x1b[2Ka log line\n');
    expect(drawn.indexOf('a log line\n')).toBeLessThan(drawn.lastIndexOf('20/1000 sessions'));
    const after = stderr.text.length;
    lines.line('after the bar');
    expect(stderr.text.slice(after)).toBe('after the bar\n');
  });

  it('draws nothing when the backfill never reported progress', () => {
    const stderr = terminal();
    new TerminalProgressBar(stderr, new StderrLines(stderr), 10).stop();
    expect(stderr.text).toBe('');
  });
});
