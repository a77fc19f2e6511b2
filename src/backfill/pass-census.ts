import { toCount } from '../db/query-rows';
import type { SqlRunner } from '../db/sql-runner';
import { TABLES } from '../schema/tables';
import { CURRENT_SNAPSHOT_SQL, inReadWindow, type ReadWindow } from './read-window';
import { hasSessionKey, keyAfter, keyBindings, type SessionKey } from './session-key';

/** The current snapshot and how many sessions it sees, from one statement. */
export async function snapshotNow(
  db: SqlRunner,
): Promise<{ snapshot: string; totalSessions: number }> {
  const [row] = await db.rows<{ snapshot: string; n: unknown }>(
    `SELECT ${CURRENT_SNAPSHOT_SQL} AS snapshot, count(*) AS n FROM ${TABLES.sessions}`,
  );
  if (!row) throw new Error('a snapshot query returned no row');
  return { snapshot: row.snapshot, totalSessions: toCount(row.n) };
}

/** What the table holds in a pass's window, counted after the pass. */
export interface PassCensus {
  /** Sessions with a key: the pass should have read each of them. */
  placed: number;
  /** Sessions with a key after the pass's last key: outside every page it read. */
  beyond: number;
  /** Sessions with a NULL in their key, which no page can read. */
  keyNull: number;
}

/** Counts the sessions of `window`, against `lastKey`, the last session the pass read. */
export async function censusOfPass(
  db: SqlRunner,
  window: ReadWindow,
  lastKey: SessionKey | null,
): Promise<PassCensus> {
  const bindings: unknown[] = [];
  let beyond = 'true';
  if (lastKey !== null) {
    beyond = keyAfter('s');
    bindings.push(...keyBindings(lastKey));
  }
  const placed = hasSessionKey('s');
  const [row] = await db.rows<{ placed: unknown; beyond: unknown; key_null: unknown }>(
    `SELECT count(*) FILTER (WHERE ${placed}) AS placed,
            count(*) FILTER (WHERE ${placed} AND ${beyond}) AS beyond,
            count(*) FILTER (WHERE NOT (${placed})) AS key_null
       FROM ${TABLES.sessions} s
      WHERE ${inReadWindow('s', window, bindings)}`,
    bindings,
  );
  return {
    placed: toCount(row?.placed),
    beyond: toCount(row?.beyond),
    keyNull: toCount(row?.key_null),
  };
}
