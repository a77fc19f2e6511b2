import type { Options } from 'yargs';
import { COMMAND_NAMES, typedCommand } from '../usage-message';
import { GLOBAL_OPTIONS } from './global-flags';
import { ROLLBACK_OPTIONS } from './rollback-flags';
import { RUN_OPTIONS } from './run-flags';
import { STATUS_OPTIONS } from './status-flags';

/** Each command's options besides the global ones. */
const COMMAND_OPTIONS: Readonly<Record<string, Readonly<Record<string, Options>>>> = {
  run: RUN_OPTIONS,
  rollback: ROLLBACK_OPTIONS,
  status: STATUS_OPTIONS,
};

/** The only values a boolean flag accepts after `=`. */
const BOOLEAN_VALUES = new Set(['true', 'false']);

/** `dryRun` and `dry-run` name the same flag, as yargs reads them. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * Every boolean flag written with a value other than `true` or `false` (`--dry-run=1`,
 * `--json=yes`), one problem each. yargs reads any such value as false, which would turn a dry
 * run into a real one, so these are usage errors.
 */
export function findLooseBooleans(argv: readonly string[]): string[] {
  const command = typedCommand(argv) ?? 'run';
  const options: Readonly<Record<string, Options>> = {
    ...GLOBAL_OPTIONS,
    ...(COMMAND_OPTIONS[command] ?? {}),
  };
  const problems: string[] = [];
  for (const arg of argv) {
    if (arg === '--') break;
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!match) continue;
    const name = kebab(match[1] ?? '');
    const value = match[2] ?? '';
    if (options[name]?.type !== 'boolean' || BOOLEAN_VALUES.has(value)) continue;
    problems.push(
      `--${name} accepts only true or false after = (got ${JSON.stringify(value)}): ` +
        `write --${name} or --no-${name}`,
    );
  }
  return problems;
}

/** The help to point at for `argv`. */
export function helpCommandFor(argv: readonly string[]): string {
  const command = typedCommand(argv);
  return command !== undefined && (COMMAND_NAMES as readonly string[]).includes(command)
    ? `goal-backfill ${command} --help`
    : 'goal-backfill --help';
}
