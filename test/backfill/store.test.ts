import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lanesAt, type ReadWindow, type SessionKey } from '../../src/backfill/reading';
import { type BackfillCounts, emptyCounts } from '../../src/backfill/rules';
import { runStore } from '../../src/backfill/store';
import { sqlRunner } from '../../src/db/sql-runner';
import { TABLES } from '../../src/names';
import { type TestDatabase, useMigratedDatabase } from '../support/test-database';

/**
 * goal_backfill_runs as the store reads it back: a checkpoint saved in the lanes of
 * `read_pass` (this version) and one saved in the `cursor_*` columns (versions before lanes)
 * are the same checkpoint to a resume, to the byte of the session date.
 */

let db: TestDatabase;
useMigratedDatabase((created) => {
  db = created;
});

const WINDOW: ReadWindow & { processedBefore: number } = {
  number: 0,
  captured: true,
  processedBefore: 0,
};

const KEY: SessionKey = {
  patientId: randomUUID(),
  // Microseconds, which a JavaScript Date would lose.
  sessionDate: '2024-03-01T09:30:00.123456Z',
  sessionId: randomUUID(),
};

const COUNTS: BackfillCounts = {
  ...emptyCounts(),
  sessionsProcessed: 7,
  sessionsWithActionItems: 5,
  itemsSeen: 11,
  goalsCreated: 9,
};

async function startedRun(): Promise<string> {
  const run = await runStore.start(sqlRunner(db.knex), {
    invokedBy: 'library',
    runner: 'test',
    batchSize: 5,
  });
  return run.id;
}

/** A run with its pass in lanes, one lane over every patient at `KEY`: what this version saves. */
async function savedInLanes(): Promise<string> {
  const runner = sqlRunner(db.knex);
  const id = await startedRun();
  const lanes = lanesAt([], emptyCounts);
  await runStore.beginPass(runner, id, {
    ...WINDOW,
    split: { countsBefore: emptyCounts(), lanes },
  });
  const lane = { ...(lanes[0] as (typeof lanes)[number]), cursor: KEY, counts: COUNTS };
  await runStore.saveLane(runner, id, { index: 0, lane, counts: COUNTS, elapsedMs: 40 });
  await runStore.interrupt(runner, id, { code: '57014', message: 'canceled' });
  return id;
}

/** The same checkpoint as an earlier version saved it: a pass without lanes, the cursor columns. */
async function savedInCursorColumns(): Promise<string> {
  const id = await startedRun();
  await db
    .knex(TABLES.runs)
    .where({ id })
    .update({
      status: 'interrupted',
      read_pass: JSON.stringify(WINDOW),
      counts: JSON.stringify(COUNTS),
      cursor_patient_id: KEY.patientId,
      cursor_session_date: KEY.sessionDate,
      cursor_session_id: KEY.sessionId,
    });
  return id;
}

describe('runStore', () => {
  it('reads a checkpoint in lanes and one in the cursor columns as the same checkpoint', async () => {
    const runner = sqlRunner(db.knex);
    const inLanes = await runStore.get(runner, await savedInLanes());
    const inColumns = await runStore.get(runner, await savedInCursorColumns());
    expect(inLanes?.checkpoint).toEqual(KEY);
    expect(inColumns?.checkpoint).toEqual(KEY);
    expect(inLanes?.pass).toEqual(WINDOW);
    expect(inColumns?.pass).toEqual(WINDOW);
    expect(inLanes?.counts).toEqual(COUNTS);
    expect(inColumns?.counts).toEqual(COUNTS);
    expect(inLanes?.status).toBe('interrupted');

    const split = await runStore.splitOf(runner, inLanes?.id ?? '');
    const oldSplit = await runStore.splitOf(runner, inColumns?.id ?? '');
    expect(oldSplit).toEqual({ ...split, countsBefore: COUNTS, lanes: oldSplit?.lanes });
    expect(oldSplit?.lanes).toEqual([
      { from: null, to: null, cursor: KEY, counts: emptyCounts(), done: false },
    ]);
    expect(split?.lanes).toEqual([
      { from: null, to: null, cursor: KEY, counts: COUNTS, done: false },
    ]);
  });

  it('resumes the newest unfinished run, and a new pass clears the cursor columns', async () => {
    const runner = sqlRunner(db.knex);
    await savedInLanes();
    const old = await savedInCursorColumns();
    const resumable = await runStore.findResumable(runner);
    expect(resumable?.id).toBe(old);

    await runStore.beginPass(runner, old, {
      ...WINDOW,
      number: 1,
      split: { countsBefore: COUNTS, lanes: lanesAt([], emptyCounts) },
    });
    const [row] = await db.knex(TABLES.runs).where({ id: old }).select('cursor_patient_id');
    expect(row?.cursor_patient_id).toBeNull();
    const record = await runStore.get(runner, old);
    expect(record).toMatchObject({
      checkpoint: null,
      pass: { ...WINDOW, number: 1 },
      counts: COUNTS,
    });
  });

  it('clears the checkpoint of either form when a run finishes or is abandoned', async () => {
    const runner = sqlRunner(db.knex);
    const inLanes = await savedInLanes();
    const inColumns = await savedInCursorColumns();
    await runStore.finish(runner, inLanes, { counts: COUNTS, elapsedMs: 50 });
    expect(await runStore.abandonUnfinished(runner)).toBe(1);

    const rows = await db
      .knex(TABLES.runs)
      .select('id', 'status', 'read_pass', 'cursor_patient_id', 'cursor_session_date')
      .orderBy('status');
    expect(rows).toEqual([
      expect.objectContaining({ id: inColumns, status: 'abandoned', read_pass: null }),
      expect.objectContaining({ id: inLanes, status: 'succeeded', read_pass: null }),
    ]);
    expect(
      rows.every((row) => row.cursor_patient_id === null && row.cursor_session_date === null),
    ).toBe(true);
    expect(await runStore.findResumable(runner)).toBeNull();
    expect((await runStore.get(runner, inLanes))?.checkpoint).toBeNull();
  });
});
