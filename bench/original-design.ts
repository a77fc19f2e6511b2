import type { Knex } from 'knex';

interface SessionRow {
  id: string;
  patient_id: string;
  therapist_id: string | null;
  session_date: Date;
  extracted_notes: unknown;
}

interface ItemFields {
  task?: unknown;
  category?: unknown;
  details?: unknown;
}

function actionItems(notes: unknown): unknown[] {
  if (typeof notes !== 'object' || notes === null || Array.isArray(notes)) return [];
  const items = (notes as { action_items?: unknown }).action_items;
  return Array.isArray(items) ? items : [];
}

/**
 * (c) The original script's design, for comparison: one transaction per session, and for
 * each valid item a duplicate-check query and an insert. Run on the first `sample` sessions in
 * the backfill's reading order; returns its time.
 */
export async function runOriginalDesign(
  knex: Knex,
  sample: number,
): Promise<{ sessions: number; goalsCreated: number; elapsedMs: number }> {
  const sessions: SessionRow[] = await knex('therapy_sessions')
    .select('id', 'patient_id', 'therapist_id', 'session_date', 'extracted_notes')
    .orderBy(['patient_id', 'session_date', 'id'])
    .limit(sample);
  let goalsCreated = 0;
  const startedAt = performance.now();
  for (const session of sessions) {
    await knex.transaction(async (trx) => {
      for (const [index, item] of actionItems(session.extracted_notes).entries()) {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
        const { task, category, details } = item as ItemFields;
        if (typeof task !== 'string' || task.trim() === '') continue;
        const description = task.trim();
        const existing = await trx('treatment_goals')
          .where({ patient_id: session.patient_id, description })
          .first('id');
        if (existing) continue;
        const now = new Date();
        await trx('treatment_goals').insert({
          patient_id: session.patient_id,
          therapist_id: session.therapist_id,
          session_id: session.id,
          description,
          category:
            typeof category === 'string' && category.trim() !== '' ? category.trim() : 'general',
          details: typeof details === 'string' ? details : null,
          status: 'assigned',
          created_at: session.session_date,
          updated_at: now,
          origin: 'backfill',
          source_item_index: index,
          backfilled_at: now,
        });
        goalsCreated += 1;
      }
    });
  }
  return { sessions: sessions.length, goalsCreated, elapsedMs: performance.now() - startedAt };
}
