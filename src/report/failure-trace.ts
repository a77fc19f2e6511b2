import { describeErrorSafely } from '../db/safe-error';

/** The deepest chain of causes a trace follows. */
const MAX_CAUSES = 5;

/**
 * A V8 stack frame as Node writes it: `    at fn (file:line:col)`, `    at file:line:col`,
 * `    at fn (node:internal/…:line:col)` or `(native)` / `(<anonymous>)`.
 */
const FRAME = /^ {4}at (?:[^()]+ \()?[^()]*(?::\d+:\d+|native|<anonymous>)\)?$/;

/** Every line of every string the error carries: its message and the server's fields. */
function textLines(err: object): Set<string> {
  const lines = new Set<string>();
  for (const value of Object.values(err)) {
    if (typeof value === 'string') for (const line of value.split('\n')) lines.add(line.trim());
  }
  if (err instanceof Error) for (const line of err.message.split('\n')) lines.add(line.trim());
  return lines;
}

/**
 * The `at …` lines of an error's stack. The stack opens with the message, which a server can
 * write over several lines that look like frames (`    at <row value>`), so a line is kept only
 * when it has a frame's shape and is no line of the message or of any other text field.
 */
function stackFrames(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return [];
  const text = textLines(err);
  return err.stack.split('\n').filter((line) => FRAME.test(line) && !text.has(line.trim()));
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
