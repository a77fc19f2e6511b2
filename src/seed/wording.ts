import type { Faker } from '@faker-js/faker';

/**
 * The words of the seeded practice, which a seeded Faker fills in: the homework tasks
 * clinicians set (templates with their categories), and the wording around them: details,
 * notes objects, clinicians' goals, placeholders and the whitespace of blank and padded tasks.
 * Kept apart from the generator so the vocabulary can grow without touching the SQL.
 */

/** The goal categories clinicians use. */
export const GOAL_CATEGORIES = [
  'homework',
  'coping skills',
  'mindfulness',
  'physical activity',
  'sleep',
  'journaling',
  'social connection',
  'medication',
  'self-care',
  'relationships',
] as const;

export type GoalCategory = (typeof GOAL_CATEGORIES)[number];

/** A kind of homework task, with its category and a way to word one. */
export interface TaskTemplate {
  category: GoalCategory;
  word(faker: Faker): string;
}

function minutes(faker: Faker, min: number, max: number): number {
  return faker.number.int({ min, max });
}

function clockTime(faker: Faker, fromHour: number, toHour: number): string {
  const hour = faker.number.int({ min: fromHour, max: toHour });
  const minute = faker.helpers.arrayElement(['00', '30']);
  return `${hour}:${minute}`;
}

/** The tasks clinicians set between sessions. */
export const TASK_TEMPLATES: readonly TaskTemplate[] = [
  {
    category: 'mindfulness',
    word: (f) =>
      `Practice box breathing for ${minutes(f, 3, 10)} minutes every ${f.helpers.arrayElement(['morning', 'evening', 'lunch break'])}`,
  },
  {
    category: 'mindfulness',
    word: (f) => `Do the ${minutes(f, 5, 20)}-minute body scan recording before bed`,
  },
  {
    category: 'mindfulness',
    word: (f) =>
      `Use the 5-4-3-2-1 grounding exercise when you notice ${f.helpers.arrayElement(['racing thoughts', 'tension in your chest', 'the urge to leave', 'your heart speeding up'])}`,
  },
  {
    category: 'coping skills',
    word: (f) =>
      `Fill in a thought record whenever anxiety rises above ${f.number.int({ min: 4, max: 8 })}/10`,
  },
  {
    category: 'coping skills',
    word: (f) =>
      `Write a coping card for ${f.helpers.arrayElement(['work meetings', 'family dinners', 'the commute', 'phone calls', 'crowded shops'])} and keep it in your ${f.helpers.arrayElement(['wallet', 'bag', 'phone case'])}`,
  },
  {
    category: 'coping skills',
    word: (f) =>
      `Practice saying no to ${f.helpers.arrayElement(['one', 'two'])} request(s) this week and note how it felt`,
  },
  {
    category: 'coping skills',
    word: (f) =>
      `Climb step ${f.number.int({ min: 1, max: 8 })} of the exposure ladder for ${f.helpers.arrayElement(['driving on the highway', 'speaking up in meetings', 'taking the bus', 'eating out'])}`,
  },
  {
    category: 'physical activity',
    word: (f) =>
      `Walk for ${minutes(f, 10, 45)} minutes on ${f.date.weekday()} and ${f.date.weekday()}`,
  },
  {
    category: 'physical activity',
    word: (f) =>
      `Go to the ${f.helpers.arrayElement(['yoga', 'swimming', 'spin', 'pilates', 'dance'])} class on ${f.date.weekday()}`,
  },
  {
    category: 'physical activity',
    word: (f) => `Stretch for ${minutes(f, 5, 15)} minutes after waking up`,
  },
  {
    category: 'sleep',
    word: (f) => `Go to bed by ${clockTime(f, 21, 23)} on weeknights`,
  },
  {
    category: 'sleep',
    word: (f) =>
      `Keep a sleep diary for ${f.number.int({ min: 1, max: 3 })} week(s): bedtime, wake time, awakenings`,
  },
  {
    category: 'sleep',
    word: (f) => `No screens after ${clockTime(f, 20, 22)}`,
  },
  {
    category: 'journaling',
    word: (f) =>
      `Write ${f.helpers.arrayElement(['three', 'two', 'five'])} things that went well each ${f.helpers.arrayElement(['evening', 'night', 'Sunday'])}`,
  },
  {
    category: 'journaling',
    word: (f) => `Journal for ${minutes(f, 5, 20)} minutes after difficult conversations`,
  },
  {
    category: 'journaling',
    word: (f) =>
      `Rate your mood from 1 to 10 ${f.helpers.arrayElement(['twice', 'three times'])} a day`,
  },
  {
    category: 'social connection',
    word: (f) =>
      `Call ${f.person.firstName()} to plan ${f.helpers.arrayElement(['a coffee', 'a walk', 'lunch', 'a film'])} this week`,
  },
  {
    category: 'social connection',
    word: (f) => `Reply to ${f.person.firstName()}'s message instead of putting it off`,
  },
  {
    category: 'social connection',
    word: (f) =>
      `Go to the ${f.helpers.arrayElement(['support group', 'book club', 'community choir', 'running club'])} on ${f.date.weekday()}`,
  },
  {
    category: 'medication',
    word: (f) => `Take medication at ${clockTime(f, 7, 10)} and log any side effects`,
  },
  {
    category: 'medication',
    word: (f) => `Book a follow-up with Dr. ${f.person.lastName()} about the dosage`,
  },
  {
    category: 'self-care',
    word: (f) =>
      `Plan one pleasant activity a day, such as ${f.helpers.arrayElement(['baking', 'gardening', 'a bath', 'music', 'drawing', 'a podcast walk'])}`,
  },
  {
    category: 'self-care',
    word: (f) => `Spend ${minutes(f, 10, 30)} minutes outside in daylight every day`,
  },
  {
    category: 'self-care',
    word: (f) =>
      `Prepare lunch the night before on ${f.helpers.arrayElement(['workdays', 'school days', 'weekdays'])}`,
  },
  {
    category: 'relationships',
    word: (f) => `Use "I" statements in the next talk with ${f.person.firstName()}`,
  },
  {
    category: 'relationships',
    word: (f) =>
      `Plan a screen-free evening with ${f.helpers.arrayElement(['your partner', 'the kids', 'your roommate', 'your sister'])}`,
  },
  {
    category: 'homework',
    word: (f) => `Read chapter ${f.number.int({ min: 1, max: 12 })} of the workbook`,
  },
  {
    category: 'homework',
    word: (f) =>
      `Complete the ${f.helpers.arrayElement(['values', 'behavioral activation', 'cost-benefit', 'worry postponement', 'core beliefs'])} worksheet`,
  },
  {
    category: 'homework',
    word: (f) =>
      `Listen to the session recording and note ${f.helpers.arrayElement(['one', 'two'])} takeaway(s)`,
  },
];

/** Variants of a category as note-taking tools leave them: other case, stray spaces, blank. */
export function messyCategory(faker: Faker, category: GoalCategory): string {
  return faker.helpers.arrayElement([
    category.charAt(0).toUpperCase() + category.slice(1),
    ` ${category} `,
    category.toUpperCase(),
    '   ',
  ]);
}

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
