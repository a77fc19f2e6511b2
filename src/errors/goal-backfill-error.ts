/**
 * The base of every error this package throws on purpose. Messages name ids, counts and codes,
 * never health text, and say what to do next. The underlying error, if any, is the `cause`.
 */
export abstract class GoalBackfillError extends Error {
  /** A stable, machine-readable code for scripts and tests. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
