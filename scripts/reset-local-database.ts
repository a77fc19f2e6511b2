// `npm run db:reset`: rolls the chain back, drops the app tables it created, and migrates up
// again on the local database the knexfile selects. Refuses production and any database that
// holds rows the seeds did not create. See docs/development.md.
import knexFactory from 'knex';
import { describeErrorSafely } from '../src/db/failures';
import { createLogger } from '../src/logging';
import { assertSeedingAllowed, resetLocalDatabase } from '../src/seed/reset';

async function main(): Promise<void> {
  assertSeedingAllowed(process.env, process.argv);
  const environment = process.env.NODE_ENV?.trim() || 'development';
  const config = require('../knexfile')[environment];
  const knex = knexFactory(config);
  try {
    const { droppedAppTables } = await resetLocalDatabase({ knex, logger: createLogger() });
    process.stdout.write(
      `Local database reset: dropped ${droppedAppTables.join(', ') || 'no app tables'}; migrated up again, empty.\n`,
    );
  } finally {
    await knex.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`db:reset: ${describeErrorSafely(err).message}\n`);
  process.exitCode = 1;
});
