import type { Faker } from '@faker-js/faker';

/**
 * The wording of seeded notes around the tasks (see task-templates.ts): details, notes
 * objects, clinicians' goals, placeholders and the whitespace of blank and padded tasks.
 */

/** The `details` of an action item: how and when, in the clinician's words. */
export function wordDetails(faker: Faker): string {
  return faker.helpers.arrayElement([
    () =>
      `Agreed in session; start ${faker.helpers.arrayElement(['tomorrow', 'this weekend', `on ${faker.date.weekday()}`])}.`,
    () => `Track it in the app and bring the log on ${faker.date.weekday()}.`,
    () => 'If it feels too hard, do half and note what got in the way.',
    () =>
      `Linked to the goal of ${faker.helpers.arrayElement(['fewer panic attacks', 'better sleep', 'returning to work', 'less avoidance', 'a calmer morning routine'])}.`,
    () =>
      `${faker.person.firstName()} offered to help; review in ${faker.number.int({ min: 1, max: 4 })} week(s).`,
    () =>
      `Steps:\n1. Pick a time.\n2. Set a reminder.\n3. Note how it went (0–10) on ${faker.date.weekday()}.`,
    () => `Café with ${faker.person.firstName()} counts too ☕`,
  ])();
}

/** A notes object as the extraction service writes it, before `action_items` is added. */
export function wordNoteTemplate(faker: Faker): Record<string, string | boolean> {
  const topic = faker.helpers.arrayElement([
    'work stress',
    'sleep',
    'grief',
    'conflict at home',
    'avoidance',
    'self-criticism',
    'a recent panic attack',
    'motivation',
  ]);
  const note: Record<string, string | boolean> = {
    summary: `Client described a ${faker.helpers.arrayElement(['difficult', 'steadier', 'busy', 'mixed', 'better'])} week; we worked on ${topic}.`,
    mood: faker.helpers.arrayElement([
      'anxious',
      'low',
      'stable',
      'improving',
      'irritable',
      'hopeful',
    ]),
    session_type: faker.helpers.arrayElement(['individual', 'telehealth', 'couples', 'group']),
    next_focus: faker.helpers.arrayElement(['relapse prevention', 'exposure', topic, 'values']),
  };
  if (faker.datatype.boolean({ probability: 0.3 }))
    note.homework_reviewed = faker.datatype.boolean();
  if (faker.datatype.boolean({ probability: 0.2 })) {
    note.risk = faker.helpers.arrayElement(['none reported', 'low', 'safety plan reviewed']);
  }
  return note;
}

/** A goal as a clinician words it in the app: an outcome rather than a homework task. */
export function wordClinicianGoal(faker: Faker): string {
  return faker.helpers.arrayElement([
    () => `Reduce panic attacks to fewer than ${faker.number.int({ min: 1, max: 3 })} a week`,
    () =>
      `Return to work ${faker.helpers.arrayElement(['part-time', 'full-time'])} by ${faker.date.month()}`,
    () => `Sleep at least ${faker.number.int({ min: 6, max: 8 })} hours on most nights`,
    () =>
      `Resume ${faker.helpers.arrayElement(['driving', 'running', 'social outings', 'public transport'])} without avoidance`,
    () => `Bring the PHQ-9 score below ${faker.number.int({ min: 5, max: 10 })}`,
    () => `Bring the GAD-7 score below ${faker.number.int({ min: 5, max: 10 })}`,
    () =>
      `Talk calmly with ${faker.helpers.arrayElement(['my partner', 'my parents', 'my manager', 'my children'])} about ${faker.helpers.arrayElement(['chores', 'money', 'boundaries', 'plans'])}`,
    () => `Keep a daily routine with ${faker.number.int({ min: 2, max: 4 })} fixed anchors`,
  ])();
}

/** What a notes field holds when it is not an object: a placeholder the app once wrote. */
export const PLACEHOLDER_NOTES = [
  'Notes pending transcription',
  'See paper chart',
  'Transcription failed; audio re-uploaded',
  'Client cancelled late, no notes',
  'Imported from the previous system',
] as const;

/** Blank tasks: empty or only characters JavaScript's trim removes. */
export const BLANK_TASKS = [
  '',
  ' ',
  '   ',
  '\t',
  '\n',
  ' \n\t ',
  '\u00a0',
  '\u3000',
  '\u2003\u2003',
  '\r\n',
  '\ufeff',
] as const;

/** Whitespace that wraps a padded task; trimming removes it. */
export const TASK_PADDING = [' ', '  ', '\t', '\n', ' \u00a0', '\u3000'] as const;

/** Professional credentials after a therapist's name. */
export const THERAPIST_CREDENTIALS = ['PhD', 'PsyD', 'LCSW', 'LMFT', 'LPC', 'MD'] as const;
