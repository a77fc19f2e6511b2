-- The clinicians' goals of the variant, entered through the app before the backfill: patient one
-- had 'Read a chapter' as a goal last year, completed it, and was set it again.
INSERT INTO treatment_goals (patient_id, therapist_id, description, category, status, target_date, created_at) VALUES
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009', 'Read a chapter', 'reading', 'completed', '2023-12-01', '2023-10-01 09:00+00'),
  ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009', 'Read a chapter', 'reading', 'assigned', '2024-06-01', '2024-03-01 09:00+00'),
  ('00000000-0000-4000-8000-000000000002', NULL, 'Sleep hygiene', 'general', 'in_progress', NULL, '2024-01-20 09:00+00');
