import { type JsonValue, type SessionSpec, SQL_NULL } from './fixtures';

/**
 * A small, independent model of the backfill rules, written from the specification in plain
 * JavaScript. The tests compare the database's results with it.
 */
export interface ModelSession extends SessionSpec {
  id: string;
}

export interface ModelGoal {
  patient_id: string;
  therapist_id: string | null;
  session_id: string;
  description: string;
  category: string;
  details: string | null;
  source_item_index: number;
  sessionDate: string;
}

export interface ModelCounts {
  sessionsProcessed: number;
  sessionsWithActionItems: number;
  itemsSeen: number;
  goalsCreated: number;
  duplicatesSkipped: number;
  invalidSkipped: number;
  invalidByReason: Record<string, number>;
  sessionsSkippedByReason: Record<string, number>;
}

function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function sessionSkipReason(notes: JsonValue | typeof SQL_NULL): string | null {
  if (notes === SQL_NULL || notes === null) return 'notes_null';
  if (!isObject(notes)) return 'notes_not_object';
  const items = notes.action_items;
  if (items === undefined || items === null) return 'action_items_missing';
  if (!Array.isArray(items)) return 'action_items_not_array';
  if (items.length === 0) return 'action_items_empty';
  return null;
}

/** The most characters treatment_goals takes in each column (an app's varchar(n)); none when absent. */
export interface ModelLimits {
  description?: number;
  category?: number;
  details?: number;
}

const characters = (text: string) => [...text].length;

function categoryOf(item: { category?: JsonValue }): string {
  const category = typeof item.category === 'string' ? item.category.trim() : '';
  return category === '' ? 'general' : category;
}

function invalidReason(item: JsonValue, limits: ModelLimits): string | null {
  if (!isObject(item)) return 'not_an_object';
  const task = item.task;
  if (task === undefined || task === null) return 'missing_task';
  if (typeof task !== 'string') return 'task_not_a_string';
  if (task.trim() === '') return 'blank_task';
  const over = (text: string, limit: number | undefined) =>
    limit !== undefined && characters(text) > limit;
  if (over(task.trim(), limits.description)) return 'task_too_long';
  if (over(categoryOf(item), limits.category)) return 'category_too_long';
  if (typeof item.details === 'string' && over(item.details, limits.details)) {
    return 'details_too_long';
  }
  return null;
}

/** An ISO timestamp in microseconds: Date.parse stops at milliseconds, PostgreSQL does not. */
function instantMicros(iso: string): bigint {
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  return BigInt(Date.parse(iso)) * 1000n + BigInt(`${fraction}000000`.slice(3, 6));
}

function compareOccurrence(a: ModelGoal, b: ModelGoal): number {
  const byDate = instantMicros(a.sessionDate) - instantMicros(b.sessionDate);
  if (byDate !== 0n) return byDate < 0n ? -1 : 1;
  if (a.session_id !== b.session_id) return a.session_id < b.session_id ? -1 : 1;
  return a.source_item_index - b.source_item_index;
}

/**
 * The goals and counts a backfill must produce for `sessions`, given the (patient, description)
 * pairs that already have goals and the length limits of the table's columns.
 */
export function modelBackfill(
  sessions: readonly ModelSession[],
  existingPairs: ReadonlySet<string> = new Set(),
  limits: ModelLimits = {},
): { goals: ModelGoal[]; counts: ModelCounts } {
  const counts: ModelCounts = {
    sessionsProcessed: 0,
    sessionsWithActionItems: 0,
    itemsSeen: 0,
    goalsCreated: 0,
    duplicatesSkipped: 0,
    invalidSkipped: 0,
    invalidByReason: {},
    sessionsSkippedByReason: {},
  };
  const firstByPair = new Map<string, ModelGoal>();
  let validItems = 0;
  for (const session of sessions) {
    counts.sessionsProcessed += 1;
    const skip = sessionSkipReason(session.notes);
    if (skip !== null) {
      bump(counts.sessionsSkippedByReason, skip);
      continue;
    }
    counts.sessionsWithActionItems += 1;
    const items = (session.notes as { action_items: JsonValue[] }).action_items;
    items.forEach((item, index) => {
      counts.itemsSeen += 1;
      const reason = invalidReason(item, limits);
      if (reason !== null) {
        counts.invalidSkipped += 1;
        bump(counts.invalidByReason, reason);
        return;
      }
      validItems += 1;
      const fields = item as { task: string; category?: JsonValue; details?: JsonValue };
      const goal: ModelGoal = {
        patient_id: session.patientId,
        therapist_id: session.therapistId ?? null,
        session_id: session.id,
        description: fields.task.trim(),
        category: categoryOf(fields),
        details: typeof fields.details === 'string' ? fields.details : null,
        source_item_index: index,
        sessionDate: session.sessionDate,
      };
      const pair = `${goal.patient_id}\u0000${goal.description}`;
      const current = firstByPair.get(pair);
      if (!current || compareOccurrence(goal, current) < 0) firstByPair.set(pair, goal);
    });
  }
  const goals = [...firstByPair.entries()]
    .filter(([pair]) => !existingPairs.has(pair))
    .map(([, goal]) => goal);
  counts.goalsCreated = goals.length;
  counts.duplicatesSkipped = validItems - goals.length;
  return { goals, counts };
}

/** The key the model uses for a (patient, description) pair. */
export function pairKey(patientId: string, description: string): string {
  return `${patientId}\u0000${description}`;
}
