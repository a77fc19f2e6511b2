import { describeErrorSafely } from '../../db/safe-error';

/** The deepest chain of causes a trace follows. */
const MAX_CAUSES = 5;

/** The `at …` lines of an error's stack. The first stack line repeats the message, so never it. */
function stackFrames(err: unknown): string[] {
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  return stack.split('\n').filter((line) => /^\s+at /.test(line));
}

/**
 * The stack traces of an error and its causes, for `--verbose`. Every message is rebuilt by
 * describeErrorSafely, so a database error's text (which can quote row values) never appears.
 */
export function renderFailureTrace(err: unknown): string[] {
  const lines: string[] = [...stackFrames(err)];
  let cause = err instanceof Error ? err.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth += 1) {
    const safe = describeErrorSafely(cause);
    lines.push(`caused by: ${safe.message}${safe.code ? ` [${safe.code}]` : ''}`);
    lines.push(...stackFrames(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines;
}
