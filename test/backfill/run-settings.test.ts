import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { silentLogger } from '../../src/logging';
import {
  expectCountsToEqualModel,
  expectGoalsToEqualModel,
  resetData,
} from '../support/backfill-assertions';
import {
  countRows,
  type InsertedSession,
  insertSessions,
  insertUsers,
  readGoals,
  type SessionSpec,
} from '../support/fixtures';
import { modelBackfill } from '../support/reference-model';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

/**
 * The cursor and the counts must not depend on any setting a database can carry. The settings
 * are applied with ALTER DATABASE … SET, so the run's new connections start with them (on
 * PGlite, which has one connection, with SET on it).
 */
let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const DATE_STYLES = ['SQL, DMY', 'German', 'Postgres, MDY', 'ISO, YMD'];
const TIME_ZONES = ['Asia/Kolkata', 'Pacific/Kiritimati', 'America/New_York', 'UTC'];
const INTERVAL_STYLES = ['sql_standard', 'iso_8601', 'postgres_verbose', 'postgres'];

interface DatabaseSettings {
  datestyle: string;
  timezone: string;
  intervalstyle: string;
}

const SETTING_VALUE = /^[A-Za-z0-9_/, ]+$/;

/** Gives the database the settings and answers a Knex whose connections start with them. */
async function knexWithSettings(settings: DatabaseSettings): Promise<Knex> {
  for (const value of Object.values(settings)) expect(value).toMatch(SETTING_VALUE);
  const assignments = Object.entries(settings).map(([name, value]) => `${name} = '${value}'`);
  if (onPglite) {
    for (const assignment of assignments) await db.knex.raw(`SET ${assignment}`);
    return db.knex;
  }
  for (const assignment of assignments) {
    await db.knex.raw(`ALTER DATABASE ${db.name} SET ${assignment}`);
  }
  return knexFor(db.url);
}

let runKnex: Knex | null = null;
afterEach(async () => {
  if (runKnex && runKnex !== db.knex) await runKnex.destroy();
  runKnex = null;
  if (onPglite) await db.knex.raw('RESET ALL');
  else await db.knex.raw(`ALTER DATABASE ${db.name} RESET ALL`);
});

/** Microseconds since the epoch as ISO 8601 in UTC with six fractional digits. */
function isoMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = micros % 1000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** Instants where zones and styles disagree: DST edges, a half-hour zone's midnight, +14. */
const EDGES = [
  '2024-03-10T06:59:59.999999Z',
  '2024-03-10T07:00:00.000001Z',
  '2024-11-03T05:59:59.999998Z',
  '2024-11-03T06:00:00.000003Z',
  '2024-01-01T18:29:59.999999Z',
  '2024-01-01T18:30:00.000000Z',
  '2024-06-30T09:59:59.000001Z',
  '2024-06-30T10:00:00.000002Z',
  '2023-12-31T23:59:59.999999Z',
  '2024-02-29T12:00:00.123456Z',
].map((iso) => BigInt(Date.parse(iso)) * 1000n + BigInt(iso.slice(23, 26)));

const TASKS = ['Walk daily', 'Sleep log', 'Call a friend', 'Breathing', 'Journal', 'Read'];

/** ~300 sessions of 12 patients; several of one patient share an instant to the microsecond. */
async function insertPractice(): Promise<InsertedSession[]> {
  const patients = await insertUsers(db.knex, 12, 'patient');
  const [therapist = ''] = await insertUsers(db.knex, 1, 'therapist');
  const specs: SessionSpec[] = [];
  for (let i = 0; i < 301; i += 1) {
    const edge = EDGES[(i * 7) % EDGES.length] ?? 0n;
    const shift = [0n, 0n, 1n, 0n, 86_400_000_000n * 37n, 3_600_000_000n * 5n + 1n][i % 6] ?? 0n;
    specs.push({
      patientId: patients[(i * 5) % patients.length] ?? '',
      therapistId: therapist,
      sessionDate: isoMicros(edge + shift),
      notes:
        i % 11 === 0
          ? null
          : {
              action_items: [
                { task: TASKS[i % TASKS.length] ?? '' },
                { task: TASKS[(i * 5 + 1) % TASKS.length] ?? '', category: `c${i % 3}` },
              ],
            },
    });
  }
  return insertSessions(db.knex, specs);
}

async function expectExactBackfill(
  sessions: Awaited<ReturnType<typeof insertSessions>>,
  result: Awaited<ReturnType<typeof runBackfill>>,
) {
  const model = modelBackfill(sessions);
  expect(result.outcome).toBe('completed');
  expect(result.sessionsProcessed).toBe(await countRows(db.knex, 'therapy_sessions'));
  expectCountsToEqualModel(result, model.counts);
  await expectGoalsToEqualModel(db.knex, model.goals);
  // To the microsecond: each goal dates from the earliest occurrence of its description.
  const createdAt = new Map(
    (await readGoals(db.knex)).map((goal) => [
      `${goal.patient_id} ${goal.description}`,
      goal.created_at,
    ]),
  );
  for (const goal of model.goals) {
    expect(createdAt.get(`${goal.patient_id} ${goal.description}`)).toBe(goal.sessionDate);
  }
  const [run] = await db.knex('goal_backfill_runs').where({ id: result.runId }).select('status');
  expect(run?.status).toBe('succeeded');
}

/** A real run of 7-session pages on `knex`, stopped by its signal after its 13th page. */
function runStoppedAfter13Pages(knex: Knex, workers = 1) {
  const controller = new AbortController();
  let pages = 0;
  return runBackfill({
    knex,
    logger: silentLogger,
    batchSize: 7,
    workers,
    signal: controller.signal,
    onProgress: () => {
      pages += 1;
      if (pages === 13) controller.abort();
    },
  });
}

const MATRIX = DATE_STYLES.flatMap((datestyle, i) =>
  TIME_ZONES.map((timezone, j) => ({
    datestyle,
    timezone,
    intervalstyle: INTERVAL_STYLES[(i + j) % INTERVAL_STYLES.length] ?? 'postgres',
  })),
);

describe('a run under the database settings of an app', () => {
  it.each(MATRIX)(
    'reads every session once under DateStyle $datestyle, TimeZone $timezone',
    async (settings) => {
      const sessions = await insertPractice();
      runKnex = await knexWithSettings(settings);
      const shown = await runKnex.raw<{ rows: { datestyle: string; timezone: string }[] }>(
        "SELECT current_setting('datestyle') AS datestyle, current_setting('timezone') AS timezone",
      );
      // 'German' reads back as 'German, DMY'.
      expect(shown.rows[0]?.datestyle.startsWith(settings.datestyle)).toBe(true);
      expect(shown.rows[0]?.timezone).toBe(settings.timezone);
      const result = await runBackfill({ knex: runKnex, logger: silentLogger, batchSize: 7 });
      await expectExactBackfill(sessions, result);
    },
  );

  it('resumes from its checkpoint under other settings to the same end state', async () => {
    const sessions = await insertPractice();
    runKnex = await knexWithSettings(
      MATRIX[0] ?? {
        datestyle: 'SQL, DMY',
        timezone: 'Asia/Kolkata',
        intervalstyle: 'sql_standard',
      },
    );
    const first = await runStoppedAfter13Pages(runKnex);
    expect(first.outcome).toBe('interrupted');
    if (runKnex !== db.knex) await runKnex.destroy();
    runKnex = await knexWithSettings({
      datestyle: 'German',
      timezone: 'Pacific/Kiritimati',
      intervalstyle: 'sql_standard',
    });
    const result = await runBackfill({ knex: runKnex, logger: silentLogger, batchSize: 7 });
    expect(result.resumed).toBe(true);
    await expectExactBackfill(sessions, result);
  });

  it('resumes a run an earlier version saved in its cursor columns, its session_date a wall clock', async () => {
    await setDateKinds('timestamp', 'timestamp');
    try {
      const sessions = await insertPractice();
      runKnex = await knexWithSettings({
        datestyle: 'SQL, DMY',
        timezone: 'America/New_York',
        intervalstyle: 'postgres',
      });
      const first = await runStoppedAfter13Pages(runKnex);
      expect(first.outcome).toBe('interrupted');
      // The checkpoint as versions before lanes saved it: one reader's key in cursor_* columns.
      const [saved] = await db
        .knex('goal_backfill_runs')
        .where({ id: first.runId })
        .select('read_pass');
      const { split, ...window } = saved.read_pass;
      expect(split.lanes).toHaveLength(1);
      const [lane] = split.lanes;
      await db
        .knex('goal_backfill_runs')
        .where({ id: first.runId })
        .update({
          read_pass: JSON.stringify(window),
          counts: JSON.stringify(lane.counts),
          cursor_patient_id: lane.cursor.patientId,
          cursor_session_date: lane.cursor.sessionDate,
          cursor_session_id: lane.cursor.sessionId,
        });
      if (runKnex !== db.knex) await runKnex.destroy();
      runKnex = await knexWithSettings({
        datestyle: 'German',
        timezone: 'Pacific/Kiritimati',
        intervalstyle: 'sql_standard',
      });
      const result = await runBackfill({ knex: runKnex, logger: silentLogger, batchSize: 7 });
      expect(result).toMatchObject({ outcome: 'completed', resumed: true });
      const model = modelBackfill(sessions);
      expectCountsToEqualModel(result, model.counts);
      // Each goal from the session the model says, dated with that session's own wall clock.
      const { rows } = await db.knex.raw<{ rows: { key: string; same_date: boolean }[] }>(
        `SELECT g.patient_id || ' ' || g.description || ' ' || g.session_id AS key,
                g.created_at = s.session_date AS same_date
           FROM treatment_goals g JOIN therapy_sessions s ON s.id = g.session_id
          WHERE g.origin = 'backfill'`,
      );
      expect(rows.map((row) => row.key).sort()).toEqual(
        model.goals
          .map((goal) => `${goal.patient_id} ${goal.description} ${goal.session_id}`)
          .sort(),
      );
      expect(rows.every((row) => row.same_date)).toBe(true);
    } finally {
      await setDateKinds('timestamptz', 'timestamptz');
    }
  });

  it.skipIf(onPglite)(
    'resumes every lane of a run split among workers under other settings to the same end state',
    async () => {
      const sessions = await insertPractice();
      runKnex = await knexWithSettings({
        datestyle: 'SQL, DMY',
        timezone: 'Asia/Kolkata',
        intervalstyle: 'sql_standard',
      });
      const first = await runStoppedAfter13Pages(runKnex, 3);
      expect(first.outcome).toBe('interrupted');
      const [saved] = await db.knex('goal_backfill_runs').select('read_pass');
      const cursors = saved.read_pass.split.lanes.filter(
        (lane: { cursor: unknown }) => lane.cursor !== null,
      );
      expect(cursors.length).toBeGreaterThan(1);
      if (runKnex !== db.knex) await runKnex.destroy();
      runKnex = await knexWithSettings({
        datestyle: 'German',
        timezone: 'Pacific/Kiritimati',
        intervalstyle: 'postgres',
      });
      const result = await runBackfill({
        knex: runKnex,
        logger: silentLogger,
        batchSize: 7,
        workers: 2,
      });
      expect(result.resumed).toBe(true);
      await expectExactBackfill(sessions, result);
    },
  );
});

/**
 * Wall clocks where zones disagree: summer time in London (the 01:30), London's
 * repeated hour (the clocks go back at 02:00 BST), the last microsecond before its skipped
 * hour and the first after it, a moment in that skipped hour, a year's end (+14 in Kiritimati)
 * and a leap day.
 */
const WALL_CLOCKS = [
  '2024-06-01 01:30:00.000000',
  '2024-10-27 01:30:00.000000',
  '2024-03-31 00:59:59.999999',
  '2024-03-31 02:00:00.000000',
  '2024-03-31 01:30:00.000000',
  '2024-12-31 23:59:59.999999',
  '2024-02-29 12:00:00.123456',
];

/** London skips 01:00 to 02:00 on 2024-03-31: that wall clock does not exist there. */
const SKIPPED_IN_LONDON = '2024-03-31 01:30:00.000000';

type DateKind = 'timestamp' | 'timestamptz';
const KINDS: DateKind[] = ['timestamp', 'timestamptz'];

/** The date columns of the app's sessions and of the goals, with the kinds given. */
async function setDateKinds(session: DateKind, goal: DateKind): Promise<void> {
  await db.knex.raw(`ALTER TABLE therapy_sessions ALTER COLUMN session_date TYPE ${session}`);
  await db.knex.raw(`ALTER TABLE treatment_goals ALTER COLUMN created_at TYPE ${goal}`);
}

const WALL_CLOCK = `'YYYY-MM-DD HH24:MI:SS.US'`;

describe('a goal dates from its session as the app shows it', () => {
  afterEach(async () => {
    await setDateKinds('timestamptz', 'timestamptz');
  });

  it.each([
    { datestyle: 'SQL, DMY', timezone: 'Europe/London', intervalstyle: 'postgres' },
    { datestyle: 'German', timezone: 'Pacific/Kiritimati', intervalstyle: 'sql_standard' },
    { datestyle: 'SQL, DMY', timezone: 'Asia/Kolkata', intervalstyle: 'iso_8601' },
    { datestyle: 'German', timezone: 'Europe/London', intervalstyle: 'postgres_verbose' },
  ])(
    'under DateStyle $datestyle, TimeZone $timezone, for either kind of either column',
    async (settings) => {
      runKnex = await knexWithSettings(settings);
      const app = runKnex;
      for (const sessionKind of KINDS) {
        for (const goalKind of KINDS) {
          await resetData(db.knex);
          await setDateKinds(sessionKind, goalKind);
          const [patient = ''] = await insertUsers(db.knex, 1, 'patient');
          // Written by the app on its own connection: a wall clock, or an instant in its zone.
          for (const [i, wallClock] of WALL_CLOCKS.entries()) {
            await app.raw(
              `INSERT INTO therapy_sessions (patient_id, session_date, extracted_notes)
             VALUES (?, CAST(? AS ${sessionKind}), ?)`,
              [patient, wallClock, JSON.stringify({ action_items: [{ task: `Task ${i}` }] })],
            );
          }
          const result = await runBackfill({ knex: app, logger: silentLogger, batchSize: 2 });
          expect(result).toMatchObject({ outcome: 'completed', goalsCreated: WALL_CLOCKS.length });

          // What the app reads, on its own connection: each goal's wall clock beside its session's,
          // and whether created_at is what the app's own copy of session_date would give.
          const rows = await app.raw<{
            rows: { session: string; goal: string; as_app: boolean }[];
          }>(
            `SELECT to_char(s.session_date, ${WALL_CLOCK}) AS session,
                  to_char(g.created_at, ${WALL_CLOCK}) AS goal,
                  g.created_at = CAST(s.session_date AS ${goalKind}) AS as_app
             FROM treatment_goals g JOIN therapy_sessions s ON s.id = g.session_id
            ORDER BY s.session_date`,
          );
          const combination = `${sessionKind} -> ${goalKind}`;
          for (const row of rows.rows) {
            // A wall clock that the zone skips is no instant there: PostgreSQL reads it an hour
            // on, for the backfill as for the app.
            const skipped =
              settings.timezone === 'Europe/London' &&
              sessionKind === 'timestamp' &&
              goalKind === 'timestamptz' &&
              row.session === SKIPPED_IN_LONDON;
            expect({ combination, ...row }).toEqual({
              combination,
              session: row.session,
              goal: skipped ? '2024-03-31 02:30:00.000000' : row.session,
              as_app: true,
            });
          }
          expect(rows.rows.length).toBe(WALL_CLOCKS.length);
          if (sessionKind === 'timestamp') {
            expect(rows.rows.map((row) => row.session).sort()).toEqual([...WALL_CLOCKS].sort());
          }
        }
      }
    },
  );
});
