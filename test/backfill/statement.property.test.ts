import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/rules';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import { expectCountsToEqualModel, expectGoalsToEqualModel } from '../support/backfill-assertions';
import {
  insertSessions,
  insertUsers,
  type JsonValue,
  type SessionSpec,
  SQL_NULL,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let db: TestDatabase;
let patients: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  await db.migrateLatest();
  patients = await insertUsers(db.knex, 3, 'patient');
});

afterAll(async () => {
  await db.drop();
});

/** PostgreSQL's jsonb cannot hold U+0000; every other character is fair game. */
const storable = (text: string) => text.replaceAll('\u0000', '');

const spaceLike = fc.constantFrom(...JS_TRIM_CHARACTERS, '\u0085', '\u200b', '\u180e', '\u2060');
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 24 }).map(storable),
  fc
    .array(fc.oneof(spaceLike, fc.constantFrom('a', 'Walk', 'é', '🧘', 'ß', 'İ')), { maxLength: 8 })
    .map((parts) => parts.join('')),
  fc.constantFrom('Walk', ' Walk ', 'walk', '', 'Read', 'Read\u00a0'),
  fc.string({ unit: 'binary-ascii', minLength: 2000, maxLength: 4000 }).map(storable),
);
const key = fc.oneof(fc.constantFrom('task', 'category', 'details', 'action_items'), text);

const { json } = fc.letrec<{
  json: JsonValue;
  array: JsonValue[];
  object: Record<string, JsonValue>;
}>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    text,
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('json'), { maxKeys: 4, noNullPrototype: true }),
}));

/** A value nested up to 200 levels deep in arrays and objects. */
const deep = fc.tuple(fc.integer({ min: 1, max: 200 }), json).map(([depth, leaf]) => {
  let value: JsonValue = leaf;
  for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { nested: value };
  return value;
});

const anything = fc.oneof(json, deep);
const item: fc.Arbitrary<JsonValue> = fc.oneof(
  anything,
  fc.record(
    {
      task: fc.oneof(text, text, anything),
      category: fc.oneof(text, anything),
      details: fc.oneof(text, anything),
    },
    { requiredKeys: [] },
  ),
);
const notes: fc.Arbitrary<JsonValue | typeof SQL_NULL> = fc.oneof(
  anything,
  fc.constant(SQL_NULL),
  fc.record(
    { action_items: fc.oneof(anything, fc.array(item, { maxLength: 8 })), summary: anything },
    { requiredKeys: [] },
  ),
  fc.record({ action_items: fc.array(item, { maxLength: 8 }) }),
  fc.record({ action_items: fc.array(item, { minLength: 100, maxLength: 400 }) }),
);
const session = fc.record({
  patient: fc.integer({ min: 0, max: 2 }),
  day: fc.integer({ min: 0, max: 3 }),
  notes,
});

describe('the backfill on arbitrary extracted_notes', () => {
  it('never fails, accounts for every item, and agrees with the reference model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(session, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        async (generated, batchSize) => {
          await db.knex.raw(
            'TRUNCATE therapy_sessions, treatment_goals, goal_backfill_runs, goal_backfill_failures CASCADE',
          );
          const specs: SessionSpec[] = generated.map((s) => ({
            patientId: patients[s.patient] ?? '',
            sessionDate: new Date(Date.UTC(2024, 0, 1 + s.day)).toISOString(),
            notes: s.notes,
          }));
          const sessions = await insertSessions(db.knex, specs);
          const model = modelBackfill(sessions);

          const dry = await runBackfill({
            knex: db.knex,
            logger: silentLogger,
            batchSize,
            dryRun: true,
          });
          const real = await runBackfill({ knex: db.knex, logger: silentLogger, batchSize });

          expect(real.errors).toBe(0);
          expectCountsToEqualModel(real, model.counts);
          expectCountsToEqualModel(dry, model.counts);
          await expectGoalsToEqualModel(db.knex, model.goals);
        },
      ),
      { numRuns: 60 },
    );
  });
});
