import { describe, expect, it } from 'vitest';
import {
  formatRate,
  formatTimeLeft,
  progressFigures,
} from '../../../src/cli/progress/progress-figures';

describe('progressFigures', () => {
  it('divides the sessions of this invocation by its time, and the rest by that rate', () => {
    expect(
      progressFigures({
        sessionsProcessed: 3000,
        totalSessions: 10_000,
        sessionsThisInvocation: 2000,
        elapsedMs: 4000,
      }),
    ).toEqual({ sessionsPerSecond: 500, secondsLeft: 14 });
  });

  it('knows nothing before time has passed or sessions were read', () => {
    const unknown = { sessionsPerSecond: null, secondsLeft: null };
    expect(
      progressFigures({
        sessionsProcessed: 0,
        totalSessions: 9,
        sessionsThisInvocation: 0,
        elapsedMs: 5,
      }),
    ).toEqual(unknown);
    expect(
      progressFigures({
        sessionsProcessed: 5,
        totalSessions: 9,
        sessionsThisInvocation: 5,
        elapsedMs: 0,
      }),
    ).toEqual(unknown);
  });

  it('never counts down below zero when sessions were added during the run', () => {
    expect(
      progressFigures({
        sessionsProcessed: 12,
        totalSessions: 10,
        sessionsThisInvocation: 12,
        elapsedMs: 1000,
      }).secondsLeft,
    ).toBe(0);
  });
});

describe('formatting', () => {
  it.each([
    [null, '-'],
    [0.4, '0'],
    [1234.6, '1,235'],
  ])('formatRate(%s) is %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  it.each([
    [null, '?'],
    [Number.POSITIVE_INFINITY, '?'],
    [0, '0s'],
    [9.2, '10s'],
    [247, '4m07s'],
    [3900, '1h05m'],
  ])('formatTimeLeft(%s) is %s', (seconds, text) => {
    expect(formatTimeLeft(seconds)).toBe(text);
  });
});
