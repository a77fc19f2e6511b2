-- Verification queries for the goal backfill. Run them with psql after a backfill:
--   psql "$DATABASE_URL" -f docs/sql/verify-backfill.sql
-- Each query is independent. The ones marked "expect 0" must return 0 on a healthy backfill.
-- The whitespace set is JavaScript's String.prototype.trim set, as the backfill uses it.
-- They run on a treatment_goals the app made too, with varchar(n) columns and an enum status;
-- for one without category, details or status, put NULL in place of the missing column.

-- 1. Goals by provenance: backfilled (unchanged), backfilled but changed since, clinician-entered.
--    Unchanged is the rollback's rule: no UPDATE touched the goal and its clinical columns still
--    match the fingerprint the backfill stored (docs/backfill-rules.md, "What counts as changed").
--    The app's own goals leave origin NULL (a table goal-backfill 0.1.0 created says 'clinician').
--    An updated_at that is a timestamp without time zone holds the app's wall clock at
--    backfilled_at (or UTC's, from versions pinned to UTC): run this in the app's TimeZone.
SELECT count(*) FILTER (WHERE origin = 'backfill' AND unchanged) AS backfilled_unchanged,
       count(*) FILTER (WHERE origin = 'backfill' AND unchanged IS NOT TRUE) AS backfilled_changed,
       count(*) FILTER (WHERE coalesce(origin, 'clinician') = 'clinician') AS clinician_entered
  FROM (SELECT origin,
               (updated_at = backfilled_at
                 OR CAST(updated_at AS text) IN (
                      CAST(backfilled_at AT TIME ZONE current_setting('TimeZone') AS text),
                      CAST(backfilled_at AT TIME ZONE 'UTC' AS text)))
                 AND clinician_touched_at IS NULL
                 AND backfill_fingerprint = goal_clinical_fingerprint(
                       CAST(description AS text), CAST(category AS text), CAST(details AS text),
                       CAST(status AS text), therapist_id, session_id) AS unchanged
          FROM treatment_goals) AS goals;

-- 2. The last runs and their counts.
SELECT id, invoked_by, status, started_at, finished_at,
       counts->>'sessionsProcessed' AS sessions, counts->>'goalsCreated' AS created,
       counts->>'duplicatesSkipped' AS duplicates, counts->>'invalidSkipped' AS invalid,
       counts->>'errors' AS errors
  FROM goal_backfill_runs ORDER BY started_at DESC LIMIT 5;

-- 3. A sample of backfilled goals with their source session (ids and categories only).
SELECT g.id, g.patient_id, g.session_id, g.source_item_index, g.category, g.created_at, s.session_date
  FROM treatment_goals g JOIN therapy_sessions s ON s.id = g.session_id
 WHERE g.origin = 'backfill'
 ORDER BY g.created_at DESC LIMIT 10;

-- 4. The goals and their source items. Expect 0 in all three columns:
--    source_pairs_without_goal: a valid (patient, task) pair in the source JSONB has no goal;
--    goals_not_matching_their_source: a backfilled goal does not point at the item it came from;
--    goals_not_from_earliest_occurrence: a backfilled goal is not from the earliest occurrence
--    of its pair.
--    It reads each session's items once, in one pass, and joins by key, so it takes seconds
--    even when one session holds 100,000 items.
WITH ws AS (SELECT U&'\0009\000A\000B\000C\000D\0020\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000\FEFF' AS chars),
limits AS (
  -- The most characters each column takes (an app's varchar(n)); an item that does not fit is
  -- counted as invalid (task_too_long, category_too_long, details_too_long) and has no goal.
  SELECT coalesce(max(character_maximum_length) FILTER (WHERE column_name = 'description'), 2147483647) AS description,
         coalesce(max(character_maximum_length) FILTER (WHERE column_name = 'category'), 2147483647) AS category,
         coalesce(max(character_maximum_length) FILTER (WHERE column_name = 'details'), 2147483647) AS details
    FROM information_schema.columns
   WHERE table_schema = current_schema() AND table_name = 'treatment_goals'
),
items AS (
  -- Every item of every session, and whether the backfill makes a goal of it.
  SELECT s.patient_id, s.session_date, s.id AS session_id, e.ord - 1 AS item_index,
         btrim(e.item ->> 'task', ws.chars) AS description,
         jsonb_typeof(e.item -> 'task') = 'string'
           AND char_length(btrim(e.item ->> 'task', ws.chars)) <= limits.description
           AND char_length(coalesce(nullif(CASE WHEN jsonb_typeof(e.item -> 'category') = 'string'
                                                THEN btrim(e.item ->> 'category', ws.chars) END, ''),
                                    'general')) <= limits.category
           AND (jsonb_typeof(e.item -> 'details') IS DISTINCT FROM 'string'
                OR char_length(e.item ->> 'details') <= limits.details) AS valid
    FROM therapy_sessions s CROSS JOIN ws CROSS JOIN limits
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(s.extracted_notes) = 'object'
            AND jsonb_typeof(s.extracted_notes -> 'action_items') = 'array'
           THEN s.extracted_notes -> 'action_items' END) WITH ORDINALITY AS e(item, ord)
),
pairs AS (
  SELECT DISTINCT patient_id, description FROM items WHERE valid
),
earliest AS (
  SELECT DISTINCT ON (patient_id, description)
         patient_id, description, session_date, session_id, item_index
    FROM items
   WHERE valid
   ORDER BY patient_id, description, session_date, session_id, item_index
)
SELECT (SELECT count(*)
          FROM pairs p
          LEFT JOIN treatment_goals g
            ON g.patient_id = p.patient_id
           AND g.description = p.description
         WHERE p.description <> '' AND g.id IS NULL
       ) AS source_pairs_without_goal,
       (SELECT count(*)
          FROM treatment_goals g
          JOIN therapy_sessions s ON s.id = g.session_id
          LEFT JOIN items i ON i.session_id = g.session_id AND i.item_index = g.source_item_index
         WHERE g.origin = 'backfill'
           AND i.description IS DISTINCT FROM g.description
       ) AS goals_not_matching_their_source,
       (SELECT count(*)
          FROM treatment_goals g
          JOIN therapy_sessions gs ON gs.id = g.session_id
          JOIN earliest o ON o.patient_id = g.patient_id AND o.description = g.description
         WHERE g.origin = 'backfill'
           AND (o.session_date, o.session_id, o.item_index)
               < (gs.session_date, g.session_id, g.source_item_index)
       ) AS goals_not_from_earliest_occurrence;

-- 5. The backfill's dedup rule held. Expect 0 in both columns:
--    written_twice: pairs the backfill wrote more than one goal for;
--    beside_an_earlier_goal: backfilled goals whose pair already had a goal, entered before the
--    backfill wrote it (judged by that goal's created_at). A clinician who enters the same text
--    in the same instant as the backfill writes it is the one way to get one
--    (docs/backfill-rules.md#duplicates). The app's own repeated goals, and a goal a clinician
--    enters later with a backfilled goal's text, are the app's business and not counted.
SELECT (SELECT count(*) FROM (
          SELECT 1 FROM treatment_goals WHERE origin = 'backfill'
           GROUP BY patient_id, goal_description_key(description) HAVING count(*) > 1) d
       ) AS written_twice,
       (SELECT count(*) FROM treatment_goals b
         WHERE b.origin = 'backfill'
           AND EXISTS (SELECT 1 FROM treatment_goals o
                        WHERE o.patient_id = b.patient_id
                          AND goal_description_key(o.description) = goal_description_key(b.description)
                          AND o.origin IS DISTINCT FROM 'backfill'
                          AND o.created_at < b.backfilled_at)
       ) AS beside_an_earlier_goal;

-- 6. Sessions that failed in the latest run, if any (ids and codes only).
SELECT f.session_id, f.patient_id, f.sql_state, f.message
  FROM goal_backfill_failures f
 WHERE f.run_id = (SELECT id FROM goal_backfill_runs ORDER BY started_at DESC LIMIT 1);
