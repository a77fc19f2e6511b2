/** The rate and time left shown beside the progress bar. */
export interface ProgressFigures {
  /** Sessions per second in this invocation, or null before any time has passed. */
  sessionsPerSecond: number | null;
  /** Seconds until every session is read at that rate, or null when unknown. */
  secondsLeft: number | null;
}

/** Computes {@link ProgressFigures} from sessions done in this invocation and its elapsed time. */
export function progressFigures(input: {
  sessionsProcessed: number;
  totalSessions: number;
  sessionsThisInvocation: number;
  elapsedMs: number;
}): ProgressFigures {
  const { sessionsProcessed, totalSessions, sessionsThisInvocation, elapsedMs } = input;
  if (elapsedMs <= 0 || sessionsThisInvocation <= 0) {
    return { sessionsPerSecond: null, secondsLeft: null };
  }
  const sessionsPerSecond = sessionsThisInvocation / (elapsedMs / 1000);
  const remaining = Math.max(0, totalSessions - sessionsProcessed);
  return { sessionsPerSecond, secondsLeft: Math.ceil(remaining / sessionsPerSecond) };
}

/** A rate as a whole number with thousands separators, or `-` when unknown. */
export function formatRate(sessionsPerSecond: number | null): string {
  if (sessionsPerSecond === null) return '-';
  return Math.round(sessionsPerSecond).toLocaleString('en-US');
}

/** A duration as `1h05m`, `4m07s` or `12s`, or `?` when unknown. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (hours > 0) return `${hours}h${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m${pad(secs)}s`;
  return `${secs}s`;
}
