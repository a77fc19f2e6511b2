import type { Knex } from 'knex';
import { type SqlRunner, sqlRunner, toCount } from '../db/sql-runner';
import { GoalBackfillError } from '../errors';
import type { Logger } from '../logging';
import { BACKFILL_ORIGIN, GOAL_PROVENANCE, SEED_ORIGIN, TABLES } from '../names';
import { relationOwnership } from '../schema/lock-safe-ddl';

/**
 * What the seeds refuse, and how they reset: never in production, never on a database holding
 * a row they did not create; then they delete only their own rows (or, for `npm run db:reset`,
 * drop only the app tables this chain created).
 */

/** The seeds were asked to run where they must not: they would delete real data. */
export class SeedRefusedError extends GoalBackfillError {
  readonly code = 'SEED_REFUSED';

  constructor(
    /** Why, e.g. `NODE_ENV is production`. */
    readonly reason: string,
    options?: {
      /** What to change when it is a setting, e.g. `unset NODE_ENV`; shown in parentheses. */
      fix?: string;
      cause?: unknown;
    },
  ) {
    super(
      `refusing to seed: ${reason}. Seeding replaces the seeded users, sessions and goals; ` +
        'run it against a development or scratch database that only seeds have filled' +
        (options?.fix ? ` (${options.fix})` : ''),
      options,
    );
  }
}

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

/**
 * True (in SQL) for an id the seeds generated: {@link seededUuid} stamps every seeded user,
 * session and goal as an RFC 9562 version 8 UUID, which neither `gen_random_uuid()` (version
 * 4) nor the usual app generators produce.
 */
export function isSeededId(column: string): string {
  return `substr(CAST(${column} AS text), 15, 1) = '8'`;
}

/** Rows the seeds did not create, by table. A seed run refuses while any exist. */
export interface ForeignRows {
  users: number;
  sessions: number;
  goals: number;
}

/** Counts the rows of users, therapy_sessions and treatment_goals that the seeds did not create. */
export async function countForeignRows(db: SqlRunner): Promise<ForeignRows> {
  const { origin } = GOAL_PROVENANCE;
  const [row] = await db.rows<Record<keyof ForeignRows, unknown>>(
    `SELECT (SELECT count(*) FROM ${TABLES.users} WHERE NOT ${isSeededId('id')}) AS users,
            (SELECT count(*) FROM ${TABLES.sessions} WHERE NOT ${isSeededId('id')}) AS sessions,
            (SELECT count(*) FROM ${TABLES.goals}
              WHERE ${origin} IS NULL OR ${origin} NOT IN ('${SEED_ORIGIN}', '${BACKFILL_ORIGIN}')
                 OR (${origin} = '${BACKFILL_ORIGIN}' AND NOT ${isSeededId('patient_id')})) AS goals`,
  );
  return {
    users: toCount(row?.users),
    sessions: toCount(row?.sessions),
    goals: toCount(row?.goals),
  };
}

/**
 * Throws {@link SeedRefusedError}, naming the counts, while users, therapy_sessions or
 * treatment_goals hold a row the seeds did not create: the seeds never delete such a row.
 */
export async function assertOnlySeededRows(db: SqlRunner): Promise<void> {
  const foreign = await countForeignRows(db);
  if (foreign.users + foreign.sessions + foreign.goals > 0) {
    throw new SeedRefusedError(
      `the database holds rows the seeds did not create (${foreign.users} user(s), ` +
        `${foreign.sessions} session(s), ${foreign.goals} goal(s))`,
    );
  }
}

/**
 * Deletes what an earlier seed run created, so a new run starts from the same rows: the goals
 * (demo and backfilled), the backfill's runs and failures, and the seeded sessions and users.
 * It first checks that users, therapy_sessions and treatment_goals hold nothing else, and
 * throws `SeedRefusedError` naming the counts if they do: the seeds never delete a row
 * they did not create. The schema and the migrations tables stay.
 */
export async function resetSeededTables(db: SqlRunner): Promise<void> {
  await assertOnlySeededRows(db);
  // Every row left is the seeds' own (checked above); DELETE rather than TRUNCATE … CASCADE,
  // which would also empty any app table that references these.
  await db.rows(`DELETE FROM ${TABLES.goals}`);
  await db.rows(`DELETE FROM ${TABLES.failures}`);
  await db.rows(`DELETE FROM ${TABLES.runs}`);
  await db.rows(`DELETE FROM ${TABLES.sessions}`);
  await db.rows(`DELETE FROM ${TABLES.users}`);
}

/** What {@link resetLocalDatabase} dropped before migrating up again. */
export interface LocalResetResult {
  /** App tables this chain had created, dropped and created anew. */
  droppedAppTables: string[];
}

/**
 * Resets a local database that this chain built and the seeds filled: rolls every migration
 * back, drops `users` and `therapy_sessions` (only when this chain created them), and migrates
 * up again, leaving an empty schema. It refuses, changing nothing, while any user, session or
 * goal is not the seeds' own, or when the app tables were not created by this chain. Callers
 * refuse production first (see `assertSeedingAllowed`).
 */
export async function resetLocalDatabase(options: {
  knex: Knex;
  logger: Logger;
}): Promise<LocalResetResult> {
  const { knex, logger } = options;
  const db = sqlRunner(knex);
  const appTables = [TABLES.sessions, TABLES.users];
  const ownership = await Promise.all(appTables.map((name) => relationOwnership(db, name)));
  const foreignTables = appTables.filter((_, i) => ownership[i] === 'theirs');
  if (foreignTables.length > 0) {
    throw new SeedRefusedError(`${foreignTables.join(' and ')} were not created by this chain`);
  }
  if ((await relationOwnership(db, TABLES.goals)) === 'ours' && ownership.includes('ours')) {
    await assertOnlySeededRows(db);
  }
  await knex.migrate.rollback(undefined, true);
  const droppedAppTables: string[] = [];
  for (const [i, name] of appTables.entries()) {
    if (ownership[i] !== 'ours') continue;
    await knex.schema.dropTable(name);
    droppedAppTables.push(name);
  }
  await knex.migrate.latest();
  logger.info('reset.finish', { droppedAppTables });
  return { droppedAppTables };
}
