import type { RollbackResult } from '../rollback/rollback-backfill';
import { SUMMARY_RULE } from './run-summary';

/** The report `goal-backfill rollback` prints to stdout. */
export function renderRollbackReport(result: RollbackResult): string {
  const lines = [
    SUMMARY_RULE,
    `GOAL ROLLBACK SUMMARY${result.dryRun ? ' (DRY RUN: nothing was deleted)' : ''}`,
    SUMMARY_RULE,
    `Execution Time: ${(result.elapsedMs / 1000).toFixed(2)} seconds`,
    result.dryRun
      ? `Goals That Would Be Deleted: ${result.deleted}`
      : `Goals Deleted: ${result.deleted}`,
    `Goals Kept (Changed by Clinicians): ${result.keptChanged}`,
    `Goals Kept (Entered by Clinicians): ${result.keptClinician}`,
    ...(result.dryRun ? [] : [`Checkpoints Dropped: ${result.checkpointsAbandoned}`]),
    SUMMARY_RULE,
  ];
  if (result.includeChanged) {
    lines.push(
      '--include-changed: backfilled goals that clinicians changed were counted with the deleted.',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `goal-backfill rollback --json`: the rollback's result as one line of JSON. */
export function renderRollbackJson(result: RollbackResult): string {
  return `${JSON.stringify({
    dryRun: result.dryRun,
    includeChanged: result.includeChanged,
    deleted: result.deleted,
    keptChanged: result.keptChanged,
    keptClinician: result.keptClinician,
    checkpointsAbandoned: result.checkpointsAbandoned,
    elapsedMs: result.elapsedMs,
  })}\n`;
}
