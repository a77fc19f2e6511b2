import type { Knex } from 'knex';
import { sqlRunner } from '../db/sql-runner';
import type { Logger } from '../logging/logger';
import { relationOwnership } from '../schema/ownership';
import { TABLES } from '../schema/tables';
import { SeedRefusedError } from './seed-refused-error';
import { assertOnlySeededRows } from './seeded-rows';

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
