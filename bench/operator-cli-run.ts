import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PROJECT_ROOT = path.join(__dirname, '..');
const CLI = path.join(PROJECT_ROOT, 'dist', 'cli', 'bin.js');

/** What one CLI run reported, and what it cost. */
export interface CliRunFigures {
  elapsedMs: number;
  peakRssKiB: number;
  summary: { goalsCreated: number; sessionsProcessed: number; errors: number; elapsedMs: number };
}

/**
 * (a) The library as an operator runs it: the built `goal-backfill run --json` in its own
 * process, under GNU time for its peak resident set size.
 */
export function runOperatorCli(
  databaseUrl: string,
  args: readonly string[],
): Promise<CliRunFigures> {
  const folder = mkdtempSync(path.join(tmpdir(), 'goal-backfill-bench-'));
  const rssFile = path.join(folder, 'rss');
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/time',
      ['-f', '%M', '-o', rssFile, process.execPath, CLI, 'run', '--json', ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, GOAL_BACKFILL_LOG_LEVEL: 'warn' },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const elapsedMs = performance.now() - startedAt;
        try {
          if (error)
            throw new Error(
              `goal-backfill run failed (${String(error.code)}): ${stderr.slice(0, 500)}`,
            );
          const peakRssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
          resolve({ elapsedMs, peakRssKiB, summary: JSON.parse(stdout) });
        } catch (failure) {
          reject(failure);
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      },
    );
  });
}

/** Whether the built CLI's `run` accepts `--workers`. */
export function cliHasWorkersOption(): boolean {
  const help = execFileSync(process.execPath, [CLI, 'run', '--help'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  return help.includes('--workers');
}
