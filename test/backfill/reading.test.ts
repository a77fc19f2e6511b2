import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DateKind,
  laneBoundaries,
  lanesAt,
  type PageSelection,
  type PatientRange,
  type SessionKey,
  readSessionDateKind,
  selectPage,
  sessionDateText,
  sessionDateType,
} from '../../src/backfill/reading';
import { emptyCounts } from '../../src/backfill/rules';
import { sqlRunner } from '../../src/db/sql-runner';
import { TABLES } from '../../src/names';
import { insertUsers } from '../support/fixtures';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

/**
 * The page selection against real sessions: the reading order (patient, date, id) with equal
 * dates, infinite and BC dates and microseconds; sessions with a NULL in their key left out;
 * the cursor's date read back exactly whatever the session's TimeZone and DateStyle, for a
 * session_date of either kind (an instant, or a wall clock that New York skips or repeats);
 * lanes that together read every session once.
 */

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

beforeAll(async () => {
  // An app may let either key column be NULL; such sessions have no place in the order.
  await db.knex.raw(`ALTER TABLE ${TABLES.sessions} ALTER COLUMN session_date DROP NOT NULL`);
  await db.knex.raw(`ALTER TABLE ${TABLES.sessions} ALTER COLUMN patient_id DROP NOT NULL`);
});

/** Zones whose text or daylight saving would garble a date: +05:30, and New York's DST. */
const ODD_ZONES = ['Asia/Kolkata', 'America/New_York'];

describe.each<DateKind>(['instant', 'wall_clock'])('a session_date that is an %s', (kind) => {
  beforeAll(async () => {
    await db.knex(TABLES.sessions).del();
    await db.knex.raw(
      `ALTER TABLE ${TABLES.sessions} ALTER COLUMN session_date TYPE ${sessionDateType(kind)}`,
    );
    expect(await readSessionDateKind(sqlRunner(db.knex))).toBe(kind);
  });

  const SAME_DATE = '2024-05-01T10:00:00.000000Z';

  interface Row {
    id: string;
    patient_id: string;
    session_date: string;
  }

  let ordered: Row[];

  beforeEach(async () => {
    const [p0, p1, p2] = (await insertUsers(db.knex, 3, 'patient')).sort() as [
      string,
      string,
      string,
    ];
    const sameDateIds = [randomUUID(), randomUUID()].sort();
    // In reading order, with each date as sessionDateText writes it.
    ordered = [
      { id: randomUUID(), patient_id: p0, session_date: '-infinity' },
      { id: randomUUID(), patient_id: p0, session_date: '0044-03-15T00:00:00.000000Z BC' },
      { id: sameDateIds[0] ?? '', patient_id: p0, session_date: SAME_DATE },
      { id: sameDateIds[1] ?? '', patient_id: p0, session_date: SAME_DATE },
      { id: randomUUID(), patient_id: p0, session_date: '2024-05-01T10:00:00.000001Z' },
      { id: randomUUID(), patient_id: p0, session_date: 'infinity' },
      { id: randomUUID(), patient_id: p1, session_date: '1999-12-31T23:59:59.999999Z' },
      { id: randomUUID(), patient_id: p1, session_date: '2000-01-01T00:00:00.000000Z' },
      // New York skips 02:00 to 03:00 on 2024-03-10 and repeats 01:00 to 02:00 on 2024-11-03: as
      // wall clocks, the first two are one instant there and the last two could be either.
      { id: randomUUID(), patient_id: p1, session_date: '2024-03-10T02:30:00.000000Z' },
      { id: randomUUID(), patient_id: p1, session_date: '2024-03-10T03:30:00.000000Z' },
      { id: randomUUID(), patient_id: p1, session_date: '2024-11-03T01:30:00.000000Z' },
      { id: randomUUID(), patient_id: p1, session_date: '2024-11-03T01:30:00.000001Z' },
      { id: randomUUID(), patient_id: p2, session_date: SAME_DATE },
    ];
    const keyless = [
      { id: randomUUID(), patient_id: p1, session_date: null },
      { id: randomUUID(), patient_id: null, session_date: SAME_DATE },
    ];
    const toStored = (date: string | null) =>
      date?.endsWith(' BC') ? date.replace('T', ' ').replace('Z', '+00') : date;
    // Insert out of order, so the heap order is not the reading order.
    await db.knex(TABLES.sessions).insert(
      [...ordered, ...keyless].reverse().map((row) => ({
        ...row,
        session_date: toStored(row.session_date),
        extracted_notes: JSON.stringify({ action_items: [] }),
      })),
    );
  });

  const COLUMNS = `s.id, s.patient_id, ${sessionDateText('s.session_date', kind)} AS session_date`;

  /** Reads every page of `lane` at `limit` a page, each after the last one's key, in `trx`. */
  async function readAll(trx: Knex.Transaction, limit: number, lane: PatientRange | null) {
    const runner = sqlRunner(trx);
    const read: Row[] = [];
    let cursor: SessionKey | null = null;
    // A cursor that does not move on would read forever: more pages than sessions fails.
    for (let pages = 0; pages <= ordered.length + 1; pages += 1) {
      const bindings: unknown[] = [];
      const page: PageSelection = {
        cursor,
        limit,
        lane,
        window: { number: 0, captured: false },
        sessionDate: kind,
      };
      const rows = await runner.rows<Row>(selectPage(COLUMNS, page, bindings), bindings);
      read.push(...rows);
      const last = rows.at(-1);
      if (rows.length < limit || !last) return read;
      cursor = { patientId: last.patient_id, sessionDate: last.session_date, sessionId: last.id };
    }
    throw new Error(`paging did not end: ${read.length} rows read`);
  }

  /** Runs `body` on one connection whose TimeZone and DateStyle would garble a date's own text. */
  function withOddSettings<T>(
    zone: string,
    body: (trx: Knex.Transaction) => Promise<T>,
  ): Promise<T> {
    return db.knex.transaction(async (trx) => {
      await trx.raw('SELECT set_config(?, ?, true)', ['TimeZone', zone]);
      await trx.raw("SET LOCAL DateStyle = 'SQL, DMY'");
      return body(trx);
    });
  }

  describe('selectPage', () => {
    it.each(ODD_ZONES.flatMap((zone) => [1, 2, 4, 100].map((limit) => ({ zone, limit }))))(
      'reads every keyed session once, in reading order, $limit a page, in $zone',
      async ({ zone, limit }) => {
        const read = await withOddSettings(zone, (trx) => readAll(trx, limit, null));
        expect(read).toEqual(ordered);
      },
    );

    it('starts after the cursor: the same date goes on by id', async () => {
      const [first, second] = ordered.filter((row) => row.session_date === SAME_DATE);
      const bindings: unknown[] = [];
      const page: PageSelection = {
        cursor: {
          patientId: first?.patient_id ?? '',
          sessionDate: first?.session_date ?? '',
          sessionId: first?.id ?? '',
        },
        limit: 2,
        lane: null,
        window: { number: 0, captured: false },
        sessionDate: kind,
      };
      const rows = await sqlRunner(db.knex).rows<Row>(
        selectPage(COLUMNS, page, bindings),
        bindings,
      );
      expect(rows.map((row) => row.id)).toEqual([second?.id, ordered[4]?.id]);
    });

    it('splits into lanes that together read every session once', async () => {
      const keyed = ordered.length;
      const boundaries = await laneBoundaries(sqlRunner(db.knex), 3, keyed);
      expect(boundaries).toEqual([...new Set(boundaries)].sort());
      expect(boundaries.length).toBeGreaterThan(0);
      const lanes = lanesAt(boundaries, emptyCounts);
      expect(lanes).toHaveLength(boundaries.length + 1);
      const read = await withOddSettings('America/New_York', async (trx) => {
        const all: Row[] = [];
        for (const lane of lanes) all.push(...(await readAll(trx, 2, lane)));
        return all;
      });
      expect(read).toEqual(ordered);
    });
  });

  describe('sessionDateText', () => {
    it('writes the same text under any TimeZone and DateStyle', async () => {
      const query = `SELECT ${sessionDateText('s.session_date', kind)} AS d FROM ${TABLES.sessions} s
                    WHERE s.session_date IS NOT NULL AND s.patient_id IS NOT NULL ORDER BY s.patient_id, s.session_date, s.id`;
      const plain = await sqlRunner(db.knex).rows<{ d: string }>(query);
      expect(plain.map((row) => row.d)).toEqual(ordered.map((row) => row.session_date));
      for (const zone of ODD_ZONES) {
        const odd = await withOddSettings(zone, (trx) => sqlRunner(trx).rows<{ d: string }>(query));
        expect(odd).toEqual(plain);
      }
    });
  });
});
