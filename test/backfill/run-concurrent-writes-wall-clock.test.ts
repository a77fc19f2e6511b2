import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run';
import { byPatientDescription, expectCountsToEqualModel } from '../support/backfill-assertions';
import { CapturingLogger } from '../support/capturing-logger';
import { insertUsers, type JsonValue, SQL_NULL } from '../support/fixtures';
import { type ModelSession, modelBackfill } from '../support/reference-model';
import {
  knexFor,
  onPglite,
  type TestDatabase,
  useMigratedDatabase,
} from '../support/test-database';

/**
 * An app whose therapy_sessions.session_date is a wall clock (`timestamp without time zone`)
 * and whose connections are in America/New_York inserts, updates and deletes sessions between
 * the pages of a run, at wall clocks in New York's skipped hour (2026-03-08 02:00 to 03:00,
 * which PostgreSQL reads an hour on) and its repeated hour (2026-11-01 01:00 to 02:00). There a
 * later wall clock can be an earlier instant (02:45 is 03:45 EDT, after 03:15 EDT), so a run
 * that compared its cursor, or ordered occurrences, as instants would skip sessions or keep the
 * wrong one. The writes are gated: the run's health query waits on an advisory lock that the
 * app holds while it writes, so each wave lands between two pages of the first pass, against
 * the cursor the run saved with its last page. The app writes only what the documented rules
 * turn into the model's goals for the final sessions (a session dated before the one an
 * existing goal came from leaves that goal: docs/operations.md):
 * - for a patient the cursor has passed: new descriptions, an item appended to a session, a
 *   session that made no goal moved or deleted;
 * - for a patient it has not reached: anything, with new descriptions, sessions moved into and
 *   within both hours, a session that made goals deleted.
 * PGlite has one connection, so there is no second writer there.
 */
let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const ZONE = 'America/New_York';
/** The gate: an advisory lock of two keys that the app holds while it writes. */
const GATE = [424_242, 7] as const;
/** Waits at the gate after each full page, and asks for no pause. */
const HEALTH_QUERY = `SELECT 0 AS delay_ms FROM pg_advisory_xact_lock_shared(${GATE[0]}, ${GATE[1]})`;
const PATIENTS = 12;
const BATCH_SIZE = 7;
/** A patient the cursor has passed gets the writes of {@link writeBehind}: the odd ones. */
const BEHIND = [1, 3, 5, 7, 9];
/** A patient the cursor has not reached gets those of {@link writeAhead}: the even ones. */
const AHEAD = [2, 4, 6, 8, 10];

type Notes = JsonValue | typeof SQL_NULL;
const items = (...tasks: string[]): Notes => ({ action_items: tasks.map((task) => ({ task })) });

/**
 * Each patient's sessions when the run starts, as wall clocks (the model reads the `Z` as UTC,
 * which orders wall clocks; the app writes them without it). Several descriptions recur where a
 * later wall clock is an earlier instant, or the same one: the earliest wall clock must win.
 */
const SLOTS: readonly { at: string; notes: Notes }[] = [
  { at: '2026-01-10T09:00:00.000000Z', notes: items('Walk daily', 'Read') },
  { at: '2026-02-14T14:00:00.000000Z', notes: items('Walk daily', 'Call a friend') },
  { at: '2026-03-08T01:59:59.999999Z', notes: items('Morning pages') },
  // The skipped hour: 02:00 is the instant of 03:00, 02:30 that of 03:30.
  { at: '2026-03-08T02:00:00.000000Z', notes: items('Breathing') },
  { at: '2026-03-08T02:15:00.000000Z', notes: items('Journal', 'Stretch') },
  { at: '2026-03-08T02:30:00.000000Z', notes: items('Meditate', 'Gratitude') },
  { at: '2026-03-08T02:45:00.000000Z', notes: items('Tea ritual') },
  { at: '2026-03-08T02:59:59.999999Z', notes: items('Body scan') },
  { at: '2026-03-08T03:00:00.000000Z', notes: items('Breathing', 'Body scan') },
  { at: '2026-03-08T03:15:00.000000Z', notes: items('Journal', 'Tea ritual') },
  { at: '2026-03-08T03:30:00.000000Z', notes: items('Meditate') },
  { at: '2026-03-08T03:45:00.000000Z', notes: items('Gratitude', 'Read') },
  { at: '2026-06-01T10:00:00.000000Z', notes: SQL_NULL },
  // The repeated hour: PostgreSQL reads its wall clocks as standard time.
  { at: '2026-11-01T00:59:59.999999Z', notes: items('Sleep log') },
  { at: '2026-11-01T01:00:00.000000Z', notes: items('Sleep log', 'Walk daily') },
  { at: '2026-11-01T01:30:00.000000Z', notes: items('Evening walk') },
  {
    at: '2026-11-01T01:30:00.000000Z',
    notes: { action_items: [{ task: 'Evening walk' }, { task: ' ' }] },
  },
  { at: '2026-11-01T01:59:59.999999Z', notes: items('Stretch') },
  { at: '2026-11-01T02:00:00.000000Z', notes: items('Call a friend', 'Wind down') },
  { at: '2026-12-01T10:00:00.000000Z', notes: { action_items: [] } },
];

/** The wall clock as the app writes it: no zone. */
const wallClock = (iso: string) => iso.slice(0, 26).replace('T', ' ');

/** How a goal's created_at of `kind` shows in New York: a skipped wall clock an hour on. */
function shownInNewYork(iso: string, kind: 'timestamptz' | 'timestamp'): string {
  const shown = wallClock(iso);
  return kind === 'timestamptz' && shown.startsWith('2026-03-08 02:')
    ? `2026-03-08 03:${shown.slice(14)}`
    : shown;
}

const ISO_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** What the app wrote while the run went, to know which pass reads which version. */
interface Ledger {
  /** Every session as the app last wrote it, by id. */
  current: Map<string, ModelSession>;
  /** Sessions inserted or updated during the run: the catch-up pass reads those that remain. */
  written: Set<string>;
  /** Sessions first written, or deleted, before the cursor reached them: pass 0 never read them. */
  unreadByFirstPass: Set<string>;
  /** The waves written, `behind <i>` or `ahead <i>`. */
  waves: string[];
}

/** The app's writes on its own connection, in its zone, each its own transaction. */
class App {
  constructor(
    private readonly knex: Knex,
    private readonly ledger: Ledger,
  ) {}

  async insert(sessions: ModelSession[]): Promise<void> {
    await this.knex('therapy_sessions').insert(
      sessions.map((session) => ({
        id: session.id,
        patient_id: session.patientId,
        session_date: wallClock(session.sessionDate),
        extracted_notes: session.notes === SQL_NULL ? null : JSON.stringify(session.notes),
      })),
    );
    for (const session of sessions) {
      this.ledger.current.set(session.id, session);
      this.ledger.written.add(session.id);
    }
  }

  async update(id: string, change: { sessionDate?: string; notes?: Notes }): Promise<void> {
    const before = this.ledger.current.get(id);
    if (!before) throw new Error('no such session in the ledger');
    const after = { ...before, ...change };
    await this.knex('therapy_sessions')
      .where({ id })
      .update({
        session_date: wallClock(after.sessionDate),
        extracted_notes: after.notes === SQL_NULL ? null : JSON.stringify(after.notes),
      });
    this.ledger.current.set(id, after);
    this.ledger.written.add(id);
  }

  async remove(id: string): Promise<void> {
    await this.knex('therapy_sessions').where({ id }).del();
    this.ledger.current.delete(id);
    this.ledger.written.delete(id);
  }
}

function session(patientId: string, sessionDate: string, notes: Notes): ModelSession {
  return { id: randomUUID(), patientId, sessionDate, notes };
}

/**
 * Writes to a patient whose sessions the first pass has read. New descriptions only, first at
 * a wall clock that is a later instant than a rival's; an appended item, which leaves the
 * session's earlier items where they were; a session that made no goal moved within the
 * repeated hour (still after the session its goal came from) and another one deleted.
 */
async function writeBehind(app: App, ledger: Ledger, slots: ModelSession[], tag: string) {
  const patient = slots[0]?.patientId ?? '';
  const fresh = (n: string) => `Fresh ${tag} ${n}`;
  const winners = new Set(modelBackfill(slots).goals.map((goal) => goal.session_id));
  await app.insert([
    session(patient, '2026-03-08T02:30:00.000000Z', items(fresh('one'))),
    session(patient, '2026-03-08T03:00:00.000000Z', items(fresh('one'), fresh('two'))),
    session(patient, '2026-03-08T02:15:00.000000Z', items(fresh('three'))),
    session(patient, '2026-11-01T01:30:00.000000Z', items(fresh('four'))),
    session(patient, '2026-11-01T01:30:00.000000Z', items(fresh('four'))),
  ]);
  const appended = slots[8];
  const moved = slots[17];
  expect([appended?.id, moved?.id].some((id) => id === undefined || winners.has(id))).toBe(false);
  const before = ledger.current.get(appended?.id ?? '')?.notes as { action_items: JsonValue[] };
  await app.update(appended?.id ?? '', {
    notes: { action_items: [...before.action_items, { task: fresh('three') }] },
  });
  await app.update(moved?.id ?? '', { sessionDate: '2026-11-01T01:05:00.000000Z' });
  const deleted = slots.find(
    (s) =>
      s !== appended &&
      s !== moved &&
      !winners.has(s.id) &&
      Array.isArray((s.notes as { action_items?: unknown } | null)?.action_items),
  );
  expect(deleted).toBeDefined();
  await app.remove(deleted?.id ?? '');
}

/**
 * Writes to a patient the first pass has not reached: items changed, sessions moved into and
 * within the skipped and the repeated hours, a session that made goals deleted, new sessions
 * in both hours (one at the wall clock of a moved one). Every description is new to the
 * patient, and the earliest wall clock of each is a later instant than a rival's.
 */
async function writeAhead(app: App, ledger: Ledger, slots: ModelSession[], tag: string) {
  const patient = slots[0]?.patientId ?? '';
  const fresh = (n: string) => `Fresh ${tag} ${n}`;
  const at = (slot: number) => slots[slot]?.id ?? '';
  await app.update(at(1), { notes: items(fresh('one'), fresh('two')) });
  await app.update(at(12), {
    sessionDate: '2026-03-08T02:30:00.000000Z',
    notes: items(fresh('two'), fresh('three')),
  });
  await app.update(at(6), {
    sessionDate: '2026-03-08T02:05:00.000000Z',
    notes: items(fresh('four')),
  });
  await app.update(at(15), {
    sessionDate: '2026-11-01T01:45:00.000000Z',
    notes: items(fresh('five')),
  });
  await app.update(at(19), {
    sessionDate: '2026-11-01T01:15:00.000000Z',
    notes: items(fresh('three')),
  });
  await app.remove(at(5));
  await app.insert([
    session(patient, '2026-03-08T03:15:00.000000Z', items(fresh('three'), fresh('one'))),
    session(patient, '2026-11-01T01:45:00.000000Z', {
      action_items: [{ task: fresh('five') }, { task: ' ' }],
    }),
    session(patient, '2026-03-08T02:59:59.999999Z', { action_items: 'every morning' }),
  ]);
  for (const slot of [1, 12, 6, 15, 19, 5]) ledger.unreadByFirstPass.add(at(slot));
}

/** Takes the gate in an open transaction of its own connection; committing it lets the run on. */
async function closeGate(gate: Knex): Promise<Knex.Transaction> {
  const trx = await gate.transaction();
  await trx.raw('SELECT pg_advisory_xact_lock(?, ?)', [...GATE]);
  return trx;
}

/** Resolves true once the run waits at the gate, after a full page; false once it has ended. */
async function runWaitsAtGate(knex: Knex, ended: () => boolean): Promise<boolean> {
  while (!ended()) {
    const { rows } = await knex.raw<{ rows: { n: number }[] }>(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND classid = ? AND objid = ? AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [...GATE],
    );
    if ((rows[0]?.n ?? 0) > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return false;
}

/** The pass and the cursor's patient the run saved with its last page. */
async function savedCursor(knex: Knex): Promise<{ pass: number; patientId: string | null }> {
  const [run] = await knex('goal_backfill_runs').where({ status: 'running' }).select('read_pass');
  return {
    pass: Number(run?.read_pass?.number),
    patientId: run?.read_pass?.split?.lanes?.[0]?.cursor?.patientId ?? null,
  };
}

describe.skipIf(onPglite)('a wall-clock session_date in New York, written while a run goes', () => {
  beforeAll(async () => {
    await db.knex.raw('ALTER TABLE therapy_sessions ALTER COLUMN session_date TYPE timestamp');
    await db.knex.raw(`ALTER DATABASE ${db.name} SET TimeZone = '${ZONE}'`);
  });

  it.each(['timestamptz', 'timestamp'] as const)(
    'ends in the model’s goals for the final sessions, each read once a pass (created_at %s)',
    async (kind) => {
      await db.knex.raw(`ALTER TABLE treatment_goals ALTER COLUMN created_at TYPE ${kind}`);
      const app = knexFor(db.url, 4);
      const gate = knexFor(db.url, 1);
      const controller = new AbortController();
      let held: Knex.Transaction | null = null;
      let run: Promise<unknown> | null = null;
      try {
        const zone = await app.raw<{ rows: { zone: string }[] }>(
          `SELECT current_setting('TimeZone') AS zone`,
        );
        expect(zone.rows[0]?.zone).toBe(ZONE);

        const patients = (await insertUsers(db.knex, PATIENTS, 'patient')).sort();
        const slotsOf = patients.map((patientId) =>
          SLOTS.map((slot) => session(patientId, slot.at, slot.notes)),
        );
        const initial = slotsOf.flat();
        const ledger: Ledger = {
          current: new Map(),
          written: new Set(),
          unreadByFirstPass: new Set(),
          waves: [],
        };
        const writer = new App(app, ledger);
        await writer.insert(initial);
        ledger.written.clear();

        const logger = new CapturingLogger();
        let ended = false;
        held = await closeGate(gate);
        const running = runBackfill({
          knex: app,
          logger,
          batchSize: BATCH_SIZE,
          healthQuery: HEALTH_QUERY,
          lockTimeoutMs: 15_000,
          signal: controller.signal,
          // A cursor that does not move on would read forever.
          onProgress: (progress) => {
            if (progress.sessionsProcessed > 3 * initial.length) controller.abort();
          },
        }).finally(() => {
          ended = true;
        });
        run = running;

        // Between two pages of the first pass: write to the patients the saved cursor has passed
        // and to the next one but one, then open the gate for one page.
        const due = { behind: [...BEHIND], ahead: [...AHEAD] };
        const left = () => due.behind.length + due.ahead.length;
        while (left() > 0 && (await runWaitsAtGate(app, () => ended))) {
          const saved = await savedCursor(app);
          if (saved.pass !== 0) break;
          const reached = patients.indexOf(saved.patientId ?? '');
          for (const index of due.behind.filter((i) => i < reached)) {
            await writeBehind(writer, ledger, slotsOf[index] ?? [], `b${index}`);
            ledger.waves.push(`behind ${index}`);
          }
          for (const index of due.ahead.filter((i) => i > reached && i <= reached + 2)) {
            await writeAhead(writer, ledger, slotsOf[index] ?? [], `a${index}`);
            ledger.waves.push(`ahead ${index}`);
          }
          due.behind = due.behind.filter((i) => !ledger.waves.includes(`behind ${i}`));
          due.ahead = due.ahead.filter((i) => !ledger.waves.includes(`ahead ${i}`));
          await held?.commit();
          held = left() > 0 ? await closeGate(gate) : null;
        }
        if (held) await held.commit();
        held = null;
        const result = await running;
        expect(result.outcome).toBe('completed');
        expect(logger.named('backfill.health_query_failed')).toEqual([]);

        // The sessions as the app's connection reads them: what it wrote, and nothing else.
        const read = await app.raw<{
          rows: {
            id: string;
            patient_id: string;
            session_date: string;
            extracted_notes: JsonValue;
          }[];
        }>(
          `SELECT id, patient_id, to_char(session_date, ${ISO_TEXT}) AS session_date, extracted_notes
             FROM therapy_sessions ORDER BY id`,
        );
        const final: ModelSession[] = read.rows.map((row) => ({
          id: row.id,
          patientId: row.patient_id,
          sessionDate: row.session_date,
          notes: row.extracted_notes ?? SQL_NULL,
        }));
        const byId = (a: ModelSession, b: ModelSession) => (a.id < b.id ? -1 : 1);
        const normal = (s: ModelSession) => ({
          ...s,
          notes: s.notes === SQL_NULL ? null : s.notes,
        });
        expect(final.map(normal)).toEqual([...ledger.current.values()].sort(byId).map(normal));

        // Pass 0 read what existed at the start but for what was written before it got there;
        // pass 1 what was written, in its final version; pass 2 found nothing.
        const firstPass = initial.filter((s) => !ledger.unreadByFirstPass.has(s.id));
        const catchUp = [...ledger.written].flatMap((id) => ledger.current.get(id) ?? []);
        const passes = logger
          .named('backfill.pass_done')
          .map(({ fields }) => ({ pass: Number(fields?.pass), read: Number(fields?.read) }));
        expect(passes).toEqual([
          { pass: 0, read: firstPass.length },
          { pass: 1, read: catchUp.length },
          { pass: 2, read: 0 },
        ]);
        expect(ledger.waves.sort()).toEqual(
          [...BEHIND.map((i) => `behind ${i}`), ...AHEAD.map((i) => `ahead ${i}`)].sort(),
        );
        const model = modelBackfill(final);
        const reads = modelBackfill([...firstPass, ...catchUp]).counts;
        expect(reads.goalsCreated).toBe(model.goals.length);
        expectCountsToEqualModel(result, reads);

        // The run's record and its goals, as the table holds them.
        const record = await app.raw<{
          rows: { status: string; counts: unknown; goals: number }[];
        }>(
          `SELECT r.status, r.counts,
                  (SELECT count(*)::int FROM treatment_goals g
                    WHERE g.origin = 'backfill' AND g.backfill_run_id = r.id) AS goals
             FROM goal_backfill_runs r WHERE r.id = ?`,
          [result.runId],
        );
        expect(record.rows).toEqual([
          {
            status: 'succeeded',
            counts: { ...reads, errors: 0, itemsInFailedSessions: 0 },
            goals: reads.goalsCreated,
          },
        ]);

        // Each goal from the session the model says, its created_at that session's wall clock
        // as the app's connection reads it.
        const goals = await app.raw<{ rows: Record<string, unknown>[] }>(
          `SELECT g.patient_id, g.description, g.session_id, g.source_item_index, g.category,
                  g.details, g.therapist_id, g.status, g.backfill_run_id,
                  to_char(s.session_date, ${ISO_TEXT}) AS session_date,
                  to_char(g.created_at, 'YYYY-MM-DD HH24:MI:SS.US') AS shown,
                  g.created_at = s.session_date AS as_app
             FROM treatment_goals g LEFT JOIN therapy_sessions s ON s.id = g.session_id
            WHERE g.origin = 'backfill'`,
        );
        const actual = (goals.rows as { patient_id: string; description: string }[]).sort(
          byPatientDescription,
        );
        const expected = [...model.goals].sort(byPatientDescription).map((goal) => ({
          patient_id: goal.patient_id,
          description: goal.description,
          session_id: goal.session_id,
          source_item_index: goal.source_item_index,
          category: goal.category,
          details: goal.details,
          therapist_id: null,
          status: 'assigned',
          backfill_run_id: result.runId,
          session_date: goal.sessionDate,
          shown: shownInNewYork(goal.sessionDate, kind),
          as_app: true,
        }));
        expect(actual).toEqual(expected);
      } finally {
        // A test that failed half-way stops the run before closing what it reads on.
        controller.abort();
        await held?.rollback();
        await run?.catch(() => undefined);
        await gate.destroy();
        await app.destroy();
      }
    },
    20_000,
  );
});
