import { UsageError } from '../usage-error';
import { findFlagConflicts } from './flag-conflicts';

/** The range a numeric flag accepts. */
export interface NumberRange {
  min: number;
  max: number;
}

function describeValue(value: unknown): string {
  return typeof value === 'number' && Number.isNaN(value)
    ? 'something not a number'
    : String(value);
}

/**
 * Reads a command's flags from yargs' argv into trusted values, collecting every problem, so
 * that {@link FlagReader.finish} reports them all at once on one line.
 */
export class FlagReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly argv: Readonly<Record<string, unknown>>,
    /** The command whose flags these are, to point at its help. */
    private readonly command: string,
  ) {}

  private single(name: string): unknown {
    const value = this.argv[name];
    if (Array.isArray(value)) {
      this.problems.push(`--${name} was given ${value.length} times: give it once`);
      return undefined;
    }
    return value;
  }

  boolean(name: string): boolean {
    return this.single(name) === true;
  }

  /** A whole number in `range`, or undefined when the flag is absent. */
  integer(name: string, range: NumberRange): number | undefined {
    const value = this.single(name);
    if (value === undefined) return undefined;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range.min ||
      value > range.max
    ) {
      this.problems.push(
        `--${name} must be a whole number from ${range.min} to ${range.max} (got ${describeValue(value)})`,
      );
      return undefined;
    }
    return value;
  }

  /**
   * A timeout in whole milliseconds: 0 (none), or from `range.min` to `range.max`. Values
   * between are refused, because the run's own small statements could not finish under them.
   */
  timeoutMs(name: string, range: NumberRange): number | undefined {
    const value = this.single(name);
    if (value === undefined || value === 0) return value;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range.min ||
      value > range.max
    ) {
      this.problems.push(
        `--${name} must be 0 (none) or a whole number of milliseconds from ${range.min} to ${range.max} (got ${describeValue(value)})`,
      );
      return undefined;
    }
    return value;
  }

  /** A number of seconds in `range`, fractions allowed, as whole milliseconds. */
  secondsAsMs(name: string, range: NumberRange): number | undefined {
    const value = this.single(name);
    if (value === undefined) return undefined;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < range.min ||
      value > range.max
    ) {
      this.problems.push(
        `--${name} must be a number of seconds from ${range.min} to ${range.max} (got ${describeValue(value)})`,
      );
      return undefined;
    }
    return Math.round(value * 1000);
  }

  /** A non-empty string, or undefined when the flag is absent. */
  text(name: string): string | undefined {
    const value = this.single(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      this.problems.push(`--${name} needs a value`);
      return undefined;
    }
    return value;
  }

  /** Adds conflicting flags to the problems, and throws a UsageError listing them all. */
  finish(): void {
    const problems = [...this.problems, ...findFlagConflicts(this.argv)];
    if (problems.length > 0) {
      throw new UsageError(`${problems.join('; ')}; see 'goal-backfill ${this.command} --help'`);
    }
  }
}
