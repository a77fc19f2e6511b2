import type { Knex } from 'knex';
import { keepClinicianGoals } from './goal-snapshot';
import { MIGRATIONS_DIRECTORY } from './paths';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database';
import { type SessionLayout, seedLaidOut } from './session-layout';

/**
 * The app's own treatment_goals that `--adopted` backfills into: varchar columns, a status with a
 * CHECK of its own, an extra `target_date`, an index of its own and foreign keys, as an app that
 * shipped goal tracking first has it. Its key is a uuid, since the seeds give their demo goals
 * theirs. The limits are above every value the seeds generate, so both tables get the same goals.
 */
const APP_GOAL_TABLE = [
  `CREATE TABLE treatment_goals (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     patient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     therapist_id uuid REFERENCES users (id),
     session_id uuid REFERENCES therapy_sessions (id) ON DELETE SET NULL,
     description varchar(500) NOT NULL,
     category varchar(100) NOT NULL DEFAULT 'general',
     details text,
     status varchar(20) NOT NULL DEFAULT 'assigned'
       CHECK (status IN ('assigned', 'in_progress', 'completed', 'abandoned')),
     target_date date,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  'CREATE INDEX treatment_goals_patient_status_idx ON treatment_goals (patient_id, status)',
];

/**
 * A second scratch database with the same seeded data as the first (the seed generator is
 * deterministic) laid out the same way, whose treatment_goals the app made and the chain adopted.
 */
export async function createAdoptedDatabase(
  serverUrl: string,
  name: string,
  sessions: number,
  layout: SessionLayout,
): Promise<ScratchDatabase> {
  const database = await createScratchDatabase(serverUrl, name);
  const { knex }: { knex: Knex } = database;
  const migrations = { directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'] };
  await knex.migrate.up(migrations);
  for (const statement of APP_GOAL_TABLE) await knex.raw(statement);
  await knex.migrate.latest(migrations);
  await seedLaidOut(knex, sessions, layout);
  await keepClinicianGoals(knex);
  return database;
}
