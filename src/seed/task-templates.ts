import type { Faker } from '@faker-js/faker';

/**
 * The homework tasks clinicians set, as templates that a seeded Faker fills in, with their
 * categories. Kept apart from the generator so the vocabulary can grow without touching the SQL.
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
