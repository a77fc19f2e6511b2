import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from './run-command';

/** What a fresh process finds in an embedded database's folder. */
export interface EmbeddedContents {
  sessions: number;
  goalsByOrigin: Record<string, number>;
  runs: {
    status: string;
    goalsCreated: number;
    sessionsProcessed: number;
    hasCheckpoint: boolean;
  }[];
}

// Runs in its own `node` process: it opens the folder as the next command would, with nothing
// of the writer's process left, and prints what it finds as one JSON line.
const READER = `
const { PGlite } = require('@electric-sql/pglite');
(async () => {
  const pg = new PGlite(process.argv[1]);
  const one = async (sql) => (await pg.query(sql)).rows;
  const exists = async (table) => (await one("SELECT to_regclass('" + table + "') IS NOT NULL AS e"))[0].e;
  const out = { sessions: 0, goalsByOrigin: {}, runs: [] };
  if (await exists('therapy_sessions')) {
    out.sessions = (await one('SELECT count(*)::int AS n FROM therapy_sessions'))[0].n;
  }
  if (await exists('treatment_goals')) {
    for (const row of await one('SELECT origin, count(*)::int AS n FROM treatment_goals GROUP BY origin')) {
      out.goalsByOrigin[row.origin] = row.n;
    }
  }
  if (await exists('goal_backfill_runs')) {
    out.runs = (await one(
      "SELECT status, (counts->>'goalsCreated')::int AS \\"goalsCreated\\", " +
      "(counts->>'sessionsProcessed')::int AS \\"sessionsProcessed\\", " +
      "coalesce(jsonb_typeof(read_pass #> '{split,lanes,0,cursor}') = 'object', false) AS \\"hasCheckpoint\\" " +
      'FROM goal_backfill_runs ORDER BY started_at'
    ));
  }
  await pg.close();
  process.stdout.write(JSON.stringify(out) + '\\n');
})().catch((err) => { process.stderr.write(String(err && err.message) + '\\n'); process.exitCode = 1; });
`;

/** Opens the embedded database in `dataDirectory` from a new process and counts what is there. */
export async function readEmbeddedFromFreshProcess(
  dataDirectory: string,
): Promise<EmbeddedContents> {
  const read = await runCommand('node', ['-e', READER, dataDirectory], {}, 120_000);
  if (read.code !== 0) throw new Error(`the reader process exited ${read.code}: ${read.stderr}`);
  return JSON.parse(read.stdout) as EmbeddedContents;
}

/** A temporary folder for embedded databases; `remove` deletes it and everything in it. */
export function temporaryFolder(prefix: string): { root: string; remove: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
