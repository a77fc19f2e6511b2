/** How a run spaces its pages, to share the database with live traffic. */
export interface ThrottleSettings {
  /** Milliseconds to wait after every page. */
  pauseMs: number;
  /** Sessions per second not to exceed, over the run so far; 0 for no limit. */
  maxSessionsPerSecond: number;
}

/**
 * How long to wait before the next page: the fixed pause, or longer if the run is ahead of
 * its target rate.
 */
export function delayBeforeNextPage(
  throttle: ThrottleSettings,
  sessionsThisRun: number,
  elapsedMs: number,
): number {
  const dueMs =
    throttle.maxSessionsPerSecond > 0
      ? (sessionsThisRun / throttle.maxSessionsPerSecond) * 1000
      : 0;
  return Math.max(throttle.pauseMs, Math.ceil(dueMs - elapsedMs), 0);
}

/** Waits `ms`, or less if `signal` aborts first. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
