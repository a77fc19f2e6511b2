import { beforeEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { ConfigError, SchemaNotReadyError } from '../../src/errors';
import { silentLogger } from '../../src/logging';
import {
  expectCountsToEqualModel,
  expectGoalsToEqualModel,
  expectReconciled,
} from '../support/backfill-assertions';
import {
  countRows,
  insertClinicianGoal,
  insertSessions,
  insertUsers,
  type JsonValue,
  readGoals,
  type SessionSpec,
  SQL_NULL,
  tableCounts,
} from '../support/fixtures';
import { modelBackfill, pairKey } from '../support/reference-model';
import {
  createTestDatabase,
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

let db: TestDatabase;
let patient: string;
let otherPatient: string;
let therapist: string;

useMigratedDatabase((created) => {
  db = created;
});

beforeEach(async () => {
  [patient = '', otherPatient = ''] = await insertUsers(db.knex, 2, 'patient');
  [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
});

function backfill(options: Partial<Parameters<typeof runBackfill>[0]> = {}) {
  return runBackfill({ knex: db.knex, logger: silentLogger, ...options });
}

function session(
  notes: JsonValue | typeof SQL_NULL,
  overrides: Partial<SessionSpec> = {},
): SessionSpec {
  return {
    patientId: patient,
    therapistId: therapist,
    sessionDate: '2024-03-01T10:00:00.000Z',
    notes,
    ...overrides,
  };
}

/** Inserts the sessions, runs the backfill, and checks goals and counts against the model. */
async function expectBackfillToMatchModel(specs: SessionSpec[], options = {}) {
  const sessions = await insertSessions(db.knex, specs);
  const existing = await readGoals(db.knex);
  const model = modelBackfill(
    sessions,
    new Set(existing.map((goal) => pairKey(goal.patient_id, goal.description))),
  );
  const result = await backfill(options);
  expectCountsToEqualModel(result, model.counts);
  await expectGoalsToEqualModel(db.knex, model.goals);
  return result;
}

describe('source: which sessions carry action items', () => {
  it.each([
    ['SQL NULL notes', SQL_NULL, 'notes_null'],
    ['JSON null notes', null, 'notes_null'],
    ['a string', 'call mum', 'notes_not_object'],
    ['a number', 42, 'notes_not_object'],
    ['a boolean', true, 'notes_not_object'],
    ['a top-level array', [{ task: 'Walk' }], 'notes_not_object'],
    ['an object without action_items', { summary: 'x' }, 'action_items_missing'],
    ['action_items null', { action_items: null }, 'action_items_missing'],
    ['action_items an object', { action_items: { task: 'Walk' } }, 'action_items_not_array'],
    ['action_items a string', { action_items: 'Walk' }, 'action_items_not_array'],
    ['action_items a number', { action_items: 3 }, 'action_items_not_array'],
    ['action_items empty', { action_items: [] }, 'action_items_empty'],
  ] as const)('%s yields no goals and is counted, not an error', async (_name, notes, reason) => {
    const result = await expectBackfillToMatchModel([
      session(notes as JsonValue | typeof SQL_NULL),
    ]);
    expect(result.goalsCreated).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.sessionsProcessed).toBe(1);
    expect(result.sessionsWithActionItems).toBe(0);
    expect(result.sessionsSkippedByReason).toEqual({ [reason]: 1 });
  });
});

describe('validity: which items become goals', () => {
  it.each([
    ['an empty task', { task: '' }, 'blank_task'],
    ['a whitespace-only task', { task: ' \t\n\r ' }, 'blank_task'],
    [
      'a task of Unicode spaces JavaScript trims',
      { task: '\u00a0\u2003\u3000\ufeff\u2028' },
      'blank_task',
    ],
    ['a missing task', { category: 'x' }, 'missing_task'],
    ['a null task', { task: null }, 'missing_task'],
    ['a numeric task', { task: 7 }, 'task_not_a_string'],
    ['a boolean task', { task: false }, 'task_not_a_string'],
    ['an object task', { task: { text: 'Walk' } }, 'task_not_a_string'],
    ['an array task', { task: ['Walk'] }, 'task_not_a_string'],
    ['a string item', 'Walk daily', 'not_an_object'],
    ['a number item', 3, 'not_an_object'],
    ['a null item', null, 'not_an_object'],
    ['an array item', ['Walk'], 'not_an_object'],
  ] as const)('%s is skipped as invalid with its reason', async (_name, item, reason) => {
    const result = await expectBackfillToMatchModel([
      session({ action_items: [item as JsonValue] }),
    ]);
    expect(result.goalsCreated).toBe(0);
    expect(result.invalidSkipped).toBe(1);
    expect(result.invalidByReason).toEqual({ [reason]: 1 });
    expect(result.sessionsWithActionItems).toBe(1);
  });

  it('keeps characters JavaScript trim keeps (U+0085, U+200B) as a real task', async () => {
    const result = await expectBackfillToMatchModel([
      session({ action_items: [{ task: '\u0085' }, { task: ' \u200b ' }] }),
    ]);
    expect(result.goalsCreated).toBe(2);
    const descriptions = (await readGoals(db.knex)).map((goal) => goal.description).sort();
    expect(descriptions).toEqual(['\u0085', '\u200b']);
  });
});

describe('mapping: what a goal holds', () => {
  it('maps every column from the item and its session', async () => {
    const [inserted] = await insertSessions(db.knex, [
      session(
        {
          action_items: [
            { task: '  Practice breathing\t', category: ' coping ', details: '  5 min, twice  ' },
          ],
        },
        { sessionDate: '2024-05-06T07:08:09.123456Z' },
      ),
    ]);
    await backfill();
    const rows = await db
      .knex('treatment_goals')
      .select(
        'patient_id',
        'therapist_id',
        'session_id',
        'description',
        'category',
        'details',
        'status',
        'origin',
        'source_item_index',
        db.knex.raw(
          `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at`,
        ),
        db.knex.raw('updated_at = backfilled_at AS untouched'),
      );
    expect(rows).toEqual([
      {
        patient_id: patient,
        therapist_id: therapist,
        session_id: inserted?.id,
        description: 'Practice breathing',
        category: 'coping',
        details: '  5 min, twice  ',
        status: 'assigned',
        origin: 'backfill',
        source_item_index: 0,
        created_at: '2024-05-06 07:08:09.123456',
        untouched: true,
      },
    ]);
  });

  it.each([
    ['missing', {}],
    ['null', { category: null }],
    ['blank', { category: ' \u3000 ' }],
    ['a number', { category: 3 }],
    ['an object', { category: { name: 'x' } }],
  ])('uses category "general" when the category is %s', async (_name, fields) => {
    await insertSessions(db.knex, [session({ action_items: [{ task: 'Walk', ...fields }] })]);
    await backfill();
    const [goal] = await readGoals(db.knex);
    expect(goal?.category).toBe('general');
  });

  it.each([
    ['missing', {}],
    ['null', { details: null }],
    ['a number', { details: 5 }],
    ['an object', { details: { minutes: 5 } }],
  ])('stores null details when details is %s', async (_name, fields) => {
    await insertSessions(db.knex, [session({ action_items: [{ task: 'Walk', ...fields }] })]);
    await backfill();
    const [goal] = await readGoals(db.knex);
    expect(goal?.details).toBeNull();
  });

  it('keeps a null therapist as null', async () => {
    await insertSessions(db.knex, [
      session({ action_items: [{ task: 'Walk' }] }, { therapistId: null }),
    ]);
    await backfill();
    const [goal] = await readGoals(db.knex);
    expect(goal?.therapist_id).toBeNull();
  });
});

describe('deduplication on (patient_id, description)', () => {
  it('never duplicates a goal a clinician entered', async () => {
    await insertClinicianGoal(db.knex, { patientId: patient, description: 'Walk daily' });
    const result = await expectBackfillToMatchModel([
      session({ action_items: [{ task: ' Walk daily ' }] }),
    ]);
    expect(result.goalsCreated).toBe(0);
    expect(result.duplicatesSkipped).toBe(1);
    expect(await countRows(db.knex, 'treatment_goals')).toBe(1);
  });

  it('keeps the earliest session by date, whatever order the sessions were inserted in', async () => {
    const result = await expectBackfillToMatchModel([
      session(
        { action_items: [{ task: 'Walk', category: 'late' }] },
        { sessionDate: '2024-06-01T00:00:00Z' },
      ),
      session(
        { action_items: [{ task: 'Walk', category: 'early' }] },
        { sessionDate: '2024-01-01T00:00:00Z' },
      ),
      session(
        { action_items: [{ task: 'Walk', category: 'middle' }] },
        { sessionDate: '2024-03-01T00:00:00Z' },
      ),
    ]);
    expect(result.goalsCreated).toBe(1);
    expect(result.duplicatesSkipped).toBe(2);
    expect((await readGoals(db.knex))[0]?.category).toBe('early');
  });

  it('breaks a date tie by session id, then by position in the array', async () => {
    const date = '2024-02-02T02:02:02Z';
    const result = await expectBackfillToMatchModel([
      session(
        { action_items: [{ task: 'Walk', category: 'higher id' }] },
        {
          id: 'ffffffff-0000-4000-8000-000000000000',
          sessionDate: date,
        },
      ),
      session(
        {
          action_items: [
            { task: 'Other' },
            { task: 'Walk', category: 'second' },
            { task: 'Walk', category: 'third' },
          ],
        },
        { id: '00000000-0000-4000-8000-000000000000', sessionDate: date },
      ),
    ]);
    expect(result.goalsCreated).toBe(2);
    const walk = (await readGoals(db.knex)).find((goal) => goal.description === 'Walk');
    expect(walk?.category).toBe('second');
    expect(walk?.source_item_index).toBe(1);
  });

  it('matches exactly after trimming: case and inner spaces make different goals', async () => {
    const result = await expectBackfillToMatchModel([
      session({
        action_items: [
          { task: 'Walk daily' },
          { task: ' Walk daily\n' },
          { task: 'walk daily' },
          { task: 'Walk  daily' },
        ],
      }),
    ]);
    expect(result.goalsCreated).toBe(3);
    expect(result.duplicatesSkipped).toBe(1);
  });

  it('keeps the same description apart for different patients', async () => {
    const result = await expectBackfillToMatchModel([
      session({ action_items: [{ task: 'Walk' }] }),
      session({ action_items: [{ task: 'Walk' }] }, { patientId: otherPatient }),
    ]);
    expect(result.goalsCreated).toBe(2);
  });

  it('keeps the earliest occurrence when a patient spans many pages', async () => {
    const specs = Array.from({ length: 9 }, (_, i) =>
      session(
        {
          action_items: [
            { task: 'Carry-over task', category: `month ${9 - i}` },
            { task: `Only in ${i}` },
          ],
        },
        { sessionDate: `2024-${String(9 - i).padStart(2, '0')}-15T00:00:00Z` },
      ),
    );
    const result = await expectBackfillToMatchModel(specs, { batchSize: 2 });
    expect(result.goalsCreated).toBe(10);
    const carried = (await readGoals(db.knex)).find(
      (goal) => goal.description === 'Carry-over task',
    );
    expect(carried?.category).toBe('month 1');
  });
});

describe('nothing dropped', () => {
  it('stores a very long task whole (longer than a btree entry can hold)', async () => {
    const longTask = `Plan: ${'étape '.repeat(20_000)}end`;
    const result = await expectBackfillToMatchModel([
      session({ action_items: [{ task: longTask }, { task: `  ${longTask}  ` }] }),
    ]);
    expect(result.goalsCreated).toBe(1);
    expect(result.duplicatesSkipped).toBe(1);
    const [goal] = await readGoals(db.knex);
    expect(goal?.description).toBe(longTask);
  });

  it('stores unusual characters exactly', async () => {
    const tasks = [
      '🧘 Meditate 🌅',
      'Ǆ ß İ ﬁ',
      'قراءة',
      '\u0301combining',
      'quote \' and " and \\ backslash',
      '%_?:$1',
    ];
    const result = await expectBackfillToMatchModel([
      session({ action_items: tasks.map((task) => ({ task })) }),
    ]);
    expect(result.goalsCreated).toBe(tasks.length);
  });
});

describe('idempotency', () => {
  it('creates nothing on a second run and leaves the goals as they were', async () => {
    await insertSessions(db.knex, [
      session({ action_items: [{ task: 'Walk' }, { task: 'Read' }, { task: '' }] }),
      session({ action_items: [{ task: 'Walk' }] }, { patientId: otherPatient }),
    ]);
    const first = await backfill();
    const goalsAfterFirst = await readGoals(db.knex);
    const second = await backfill();
    expect(first.goalsCreated).toBe(3);
    expect(second.goalsCreated).toBe(0);
    expect(second.duplicatesSkipped).toBe(3);
    expect(second.invalidSkipped).toBe(1);
    expect(await readGoals(db.knex)).toEqual(goalsAfterFirst);
  });
});

describe('bounded pages', () => {
  it('gives the same goals as the model over a table of many pages', async () => {
    const patients = await insertUsers(db.knex, 40, 'patient');
    const tasks = ['Walk', 'Read', 'Journal', ' Walk ', '', 'Sleep early', 'Call a friend'];
    const specs: SessionSpec[] = [];
    for (let i = 0; i < 1500; i += 1) {
      const shape = i % 10;
      const notes: JsonValue | typeof SQL_NULL =
        shape === 0
          ? SQL_NULL
          : shape === 1
            ? { summary: 'none' }
            : shape === 2
              ? { action_items: 'bad' }
              : {
                  action_items: [
                    { task: tasks[i % 7] ?? '' },
                    { task: tasks[(i * 3) % 7] ?? '', category: 'c' },
                    5,
                  ],
                };
      specs.push(
        session(notes, {
          patientId: patients[i % 40] ?? patient,
          sessionDate: new Date(
            Date.UTC(2024, 0, 1) + ((i * 7919) % 365) * 86_400_000,
          ).toISOString(),
        }),
      );
    }
    const pages: number[] = [];
    const result = await expectBackfillToMatchModel(specs, {
      batchSize: 64,
      onProgress: (progress: { sessionsProcessed: number }) =>
        pages.push(progress.sessionsProcessed),
    });
    expect(pages.length).toBe(Math.ceil(1500 / 64));
    expect(pages.at(-1)).toBe(1500);
    expect(result.totalSessions).toBe(1500);
    expectReconciled(result);
  });
});

describe('the result and the run record', () => {
  it('returns every documented field and records a finished run without a checkpoint', async () => {
    await insertSessions(db.knex, [session({ action_items: [{ task: 'Walk' }, { task: ' ' }] })]);
    const result = await backfill({ invokedBy: 'cli' });
    expect(result).toMatchObject({
      sessionsProcessed: 1,
      sessionsWithActionItems: 1,
      goalsCreated: 1,
      duplicatesSkipped: 0,
      invalidSkipped: 1,
      invalidByReason: { blank_task: 1 },
      errors: 0,
      dryRun: false,
      resumed: false,
      outcome: 'completed',
    });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    const [run] = await db.knex('goal_backfill_runs').select('*');
    expect(run).toMatchObject({
      id: result.runId,
      invoked_by: 'cli',
      status: 'succeeded',
      cursor_patient_id: null,
      cursor_session_id: null,
    });
    expect(run.counts.goalsCreated).toBe(1);
    const [goal] = await db.knex('treatment_goals').select('backfill_run_id');
    expect(goal?.backfill_run_id).toBe(result.runId);
  });
});

describe('dry run', () => {
  it('reports exactly what a real run then does, and writes nothing at all', async () => {
    const patients = await insertUsers(db.knex, 5, 'patient');
    const specs: SessionSpec[] = [];
    for (let i = 0; i < 120; i += 1) {
      specs.push(
        session(
          {
            action_items: [
              { task: `Task ${i % 9}` },
              { task: 'Shared' },
              { task: i % 4 === 0 ? ' ' : `x${i % 3}` },
            ],
          },
          {
            patientId: patients[i % 5] ?? patient,
            sessionDate: new Date(Date.UTC(2024, 0, 1 + (i % 50))).toISOString(),
          },
        ),
      );
    }
    await insertSessions(db.knex, specs);
    await insertClinicianGoal(db.knex, {
      patientId: patients[0] ?? patient,
      description: 'Shared',
    });
    const before = await tableCounts(db.knex);

    const dry = await backfill({ dryRun: true, batchSize: 7 });
    expect(await tableCounts(db.knex)).toEqual(before);
    expect(dry.runId).toBeNull();
    expect(dry.dryRun).toBe(true);

    const real = await backfill({ batchSize: 7 });
    const counted = (r: typeof dry) => ({ ...r, runId: null, dryRun: null, elapsedMs: null });
    expect(counted(dry)).toEqual(counted(real));
    expect(real.goalsCreated).toBeGreaterThan(0);
  });
});

describe('guards', () => {
  it('rejects bad options, listing every problem at once', async () => {
    const error = await backfill({ batchSize: 0, progressEvery: -1, lockTimeoutMs: 1.5 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(3);
    expect(error.message).toMatch(/batchSize must be a whole number from 1 to 100000 \(got 0\)/);
  });

  it('refuses a transaction, naming the migration setting to use', async () => {
    const error = await db.knex
      .transaction((trx) => runBackfill({ knex: trx, logger: silentLogger }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('transaction: false');
  });

  it('says to migrate first when the tables are missing', async () => {
    const other = await createTestDatabase();
    try {
      const error = await runBackfill({ knex: other.knex, logger: silentLogger }).catch((e) => e);
      expect(error).toBeInstanceOf(SchemaNotReadyError);
      expect(error.message).toContain('npx knex migrate:latest');
    } finally {
      await other.drop();
    }
  });

  it.skipIf(onPglite)(
    'gives the pooled connection back with its session settings reset',
    async () => {
      const single = knexFor(db.url, 1);
      try {
        await runBackfill({ knex: single, logger: silentLogger, statementTimeoutMs: 4321 });
        const result = await single.raw("SELECT current_setting('statement_timeout') AS s");
        expect(result.rows[0].s).toBe('0');
        const locks = await single.raw(
          "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()",
        );
        expect(locks.rows[0].n).toBe('0');
      } finally {
        await single.destroy();
      }
    },
  );
});
