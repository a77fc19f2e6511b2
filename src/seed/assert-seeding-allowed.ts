import { SeedRefusedError } from './seed-refused-error';

/** The environment name under which seeding is refused. */
export const PRODUCTION_ENVIRONMENT = 'production';

/** The Knex environment that `--env <name>` or `--env=<name>` selects in `argv`, if any. */
export function knexEnvironmentInArgv(argv: readonly string[]): string | undefined {
  for (const [index, argument] of argv.entries()) {
    if (argument === '--env') return argv[index + 1];
    if (argument.startsWith('--env=')) return argument.slice('--env='.length);
  }
  return undefined;
}

/**
 * Throws {@link SeedRefusedError} when NODE_ENV is production, or when the Knex CLI was told
 * `--env production`: seeding empties the tables first. The message names each of the two
 * that is set, and only the fix for those. Call it before touching the database.
 */
export function assertSeedingAllowed(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): void {
  const reasons: string[] = [];
  const fixes: string[] = [];
  if (env.NODE_ENV?.trim() === PRODUCTION_ENVIRONMENT) {
    reasons.push(`NODE_ENV is ${PRODUCTION_ENVIRONMENT}`);
    fixes.push('unset NODE_ENV');
  }
  if (knexEnvironmentInArgv(argv) === PRODUCTION_ENVIRONMENT) {
    reasons.push(`the Knex environment is ${PRODUCTION_ENVIRONMENT} (--env)`);
    fixes.push(`drop --env ${PRODUCTION_ENVIRONMENT}`);
  }
  if (reasons.length > 0) {
    throw new SeedRefusedError(reasons.join(' and '), { fix: fixes.join(' and ') });
  }
}
