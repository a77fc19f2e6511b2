-- The example app's rows: patients, a therapist, sessions with every shape of notes, invoices.
INSERT INTO users (id, role, full_name, email, phone) VALUES
  ('00000000-0000-4000-8000-000000000001', 'patient', 'Pat One', 'p1@example.test', '555-0101'),
  ('00000000-0000-4000-8000-000000000002', 'patient', 'Pat Two', 'p2@example.test', NULL),
  ('00000000-0000-4000-8000-000000000009', 'therapist', 'Dr Nine', 't9@example.test', '555-0909');
INSERT INTO therapy_sessions (id, patient_id, therapist_id, session_date, extracted_notes, room) VALUES
  ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009',
   '2024-01-01 10:00+00', '{"action_items":[{"task":"Walk daily","category":"exercise","details":"20 min"},{"task":" "}]}', 'A'),
  ('00000000-0000-4000-9000-000000000002', '00000000-0000-4000-8000-000000000001', NULL,
   '2024-02-01 10:00+00', '{"action_items":[{"task":"Walk daily"},{"task":"Read a chapter"},{"details":"no task"}]}', 'B'),
  ('00000000-0000-4000-9000-000000000003', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000009',
   '2024-01-15 09:30+00', '{"action_items":[{"task":"Journal","category":"  "},{"task":"Walk daily"}]}', NULL),
  ('00000000-0000-4000-9000-000000000004', '00000000-0000-4000-8000-000000000002', NULL,
   '2024-03-01 09:30+00', NULL, 'C'),
  ('00000000-0000-4000-9000-000000000005', '00000000-0000-4000-8000-000000000002', NULL,
   '2024-04-01 09:30+00', '{"summary":"no items"}', 'C');
INSERT INTO invoices (patient_id, amount_cents) VALUES
  ('00000000-0000-4000-8000-000000000001', 12000),
  ('00000000-0000-4000-8000-000000000002', 9000);
