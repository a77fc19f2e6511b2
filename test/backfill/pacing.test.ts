import { describe, expect, it } from 'vitest';
import { delayBeforeNextPage, pause } from '../../src/backfill/pacing';

describe('delayBeforeNextPage', () => {
  it.each([
    [{ pauseMs: 0, maxSessionsPerSecond: 0 }, 5000, 100, 0],
    [{ pauseMs: 250, maxSessionsPerSecond: 0 }, 5000, 100, 250],
    // 2000 sessions at 1000/s are due at 2000 ms; 500 ms have passed.
    [{ pauseMs: 0, maxSessionsPerSecond: 1000 }, 2000, 500, 1500],
    [{ pauseMs: 0, maxSessionsPerSecond: 1000 }, 2000, 2600, 0],
    [{ pauseMs: 300, maxSessionsPerSecond: 1000 }, 2000, 1900, 300],
  ])('with %o after %i sessions in %i ms waits %i ms', (throttle, sessions, elapsed, expected) => {
    expect(delayBeforeNextPage(throttle, sessions, elapsed)).toBe(expected);
  });
});

describe('pause', () => {
  it('ends early when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await pause(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
