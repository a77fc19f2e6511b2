import type { Faker } from '@faker-js/faker';
import { requireEsmQuietly } from '../logging';
import { ITEM_KINDS, type ItemKindName } from './mix';
import {
  BLANK_TASKS,
  GOAL_CATEGORIES,
  type GoalCategory,
  messyCategory,
  PLACEHOLDER_NOTES,
  TASK_PADDING,
  TASK_TEMPLATES,
  THERAPIST_CREDENTIALS,
  wordClinicianGoal,
  wordDetails,
  wordNoteTemplate,
} from './wording';

/**
 * The pools the SQL generator picks from: fixed-size arrays that a seeded Faker words once
 * per seeding (see wording.ts), sent to PostgreSQL as one JSON parameter.
 */

// faker is an ES module, which the Knex CLI's seeds reach through require().
const fakerModule = requireEsmQuietly(
  () => require('@faker-js/faker') as typeof import('@faker-js/faker'),
);

/** A JSON value, as the pools hold them. */
export type PoolJson = null | boolean | number | string | PoolJson[] | { [key: string]: PoolJson };

/** One action item as the extraction service writes it; the generator varies it per kind. */
export interface PoolTask {
  [key: string]: PoolJson;
  task: string;
  category: PoolJson;
  details: PoolJson;
}

/**
 * Everything the SQL generator picks from, worded by a seeded Faker. The pools have a fixed
 * size whatever the number of sessions, and go to PostgreSQL as one JSON parameter.
 */
export interface SeedPools {
  [key: string]: PoolJson;
  firstNames: string[];
  lastNames: string[];
  credentials: string[];
  therapistDomain: string;
  patientDomains: string[];
  /** Distinct tasks, each with its category and details. */
  tasks: PoolTask[];
  /** The tasks as action items of every kind (see {@link buildActionItemPool}). */
  actionItems: PoolJson[];
  /** Notes objects without `action_items`. */
  noteTemplates: { [key: string]: PoolJson }[];
  /** Goal wordings of clinicians, none equal to a task. */
  clinicianGoals: string[];
  clinicianDetails: string[];
  categories: string[];
  placeholderNotes: string[];
}

/** How many entries each pool aims for; a pool whose templates have fewer distinct wordings holds fewer. */
export const POOL_SIZES = {
  firstNames: 250,
  lastNames: 250,
  tasks: 480,
  noteTemplates: 200,
  clinicianGoals: 120,
  clinicianDetails: 60,
} as const;

/** Pool tasks whose category is worded messily (other case, padded, blank), in percent. */
const MESSY_CATEGORY_PERCENT = 6;
/** Pool tasks whose details are structured data rather than text, in percent. */
const STRUCTURED_DETAILS_PERCENT = 3;
/** Pool tasks whose category is an array rather than text, in percent. */
const CATEGORY_ARRAY_PERCENT = 1;

/**
 * Words the pools with a Faker seeded with `seed`: the same seed always gives the same pools.
 * The Faker instance is created here and dropped after, so nothing leaks between calls.
 */
export function buildSeedPools(seed: number): SeedPools {
  const faker = new fakerModule.Faker({ locale: [fakerModule.en, fakerModule.base] });
  faker.seed(seed);
  const tasks = taskPool(faker);
  const taskTexts = new Set(tasks.map((task) => task.task));
  return {
    firstNames: distinct(POOL_SIZES.firstNames, () => faker.person.firstName()),
    lastNames: distinct(POOL_SIZES.lastNames, () => faker.person.lastName()),
    credentials: [...THERAPIST_CREDENTIALS],
    therapistDomain: 'clinic.example',
    patientDomains: ['example.com', 'example.net', 'example.org'],
    tasks,
    actionItems: buildActionItemPool(tasks, faker),
    noteTemplates: Array.from({ length: POOL_SIZES.noteTemplates }, () => wordNoteTemplate(faker)),
    clinicianGoals: distinct(POOL_SIZES.clinicianGoals, () => wordClinicianGoal(faker), taskTexts),
    clinicianDetails: Array.from({ length: POOL_SIZES.clinicianDetails }, () => wordDetails(faker)),
    categories: [...GOAL_CATEGORIES],
    placeholderNotes: [...PLACEHOLDER_NOTES],
  };
}

/** Draws `size` distinct values from `draw`, giving up after a bounded number of tries. */
function distinct(size: number, draw: () => string, excluded: ReadonlySet<string> = new Set()) {
  const values = new Set<string>();
  for (let attempt = 0; values.size < size && attempt < size * 50; attempt += 1) {
    const value = draw();
    if (!excluded.has(value)) values.add(value);
  }
  return [...values];
}

function taskPool(faker: Faker): PoolTask[] {
  const drawn: { task: string; category: GoalCategory }[] = [];
  const seen = new Set<string>();
  for (let attempt = 0; drawn.length < POOL_SIZES.tasks && attempt < POOL_SIZES.tasks * 50; ) {
    attempt += 1;
    const template = faker.helpers.arrayElement(TASK_TEMPLATES);
    const task = template.word(faker);
    if (seen.has(task)) continue;
    seen.add(task);
    drawn.push({ task, category: template.category });
  }
  return drawn.map(({ task, category }) => wordTask(faker, task, category));
}

function wordTask(faker: Faker, task: string, category: GoalCategory): PoolTask {
  const roll = faker.number.int({ min: 0, max: 99 });
  const details: PoolJson =
    roll < STRUCTURED_DETAILS_PERCENT
      ? { frequency: faker.helpers.arrayElement(['daily', 'weekly']), reminder: true }
      : wordDetails(faker);
  let wordedCategory: PoolJson = category;
  if (roll >= 100 - MESSY_CATEGORY_PERCENT) wordedCategory = messyCategory(faker, category);
  else if (roll >= 100 - MESSY_CATEGORY_PERCENT - CATEGORY_ARRAY_PERCENT) {
    wordedCategory = [category];
  }
  return { task, category: wordedCategory, details };
}

/** Builds the item of one kind for the task at `index` of the task pool. */
type ItemBuilder = (task: PoolTask, index: number, faker: Faker) => PoolJson;

function withoutKeys(task: PoolTask, keys: readonly string[]): { [key: string]: PoolJson } {
  return Object.fromEntries(Object.entries(task).filter(([key]) => !keys.includes(key)));
}

/** How each kind of item is worded from a task of the pool. */
const ITEM_BUILDERS: Record<ItemKindName, ItemBuilder> = {
  complete: (task) => ({ ...task }),
  no_category: (task) => withoutKeys(task, ['category']),
  no_details: (task) => withoutKeys(task, ['details']),
  task_only: (task) => withoutKeys(task, ['category', 'details']),
  padded_task: (task, _index, faker) => ({
    ...task,
    task: `${faker.helpers.arrayElement(TASK_PADDING)}${task.task}${faker.helpers.arrayElement(['', ...TASK_PADDING])}`,
  }),
  blank_task: (task, index) => ({ ...task, task: BLANK_TASKS[index % BLANK_TASKS.length] ?? '' }),
  missing_task: (task, index) =>
    index % 2 === 0 ? withoutKeys(task, ['task']) : { ...task, task: null },
  task_not_a_string: (task, index) => ({ ...task, task: 1 + (index % 9) }),
  not_an_object: (task, index) => [task.task, 1 + (index % 5), null][index % 3] ?? null,
};

/**
 * Every action item the sessions can carry, prebuilt: one block per kind, in ITEM_KINDS order,
 * and within a block one item per task of the pool. The SQL picks item
 * `(kind - 1) * tasks.length + taskIndex`, a single lookup per item instead of building JSON
 * per row.
 */
export function buildActionItemPool(tasks: readonly PoolTask[], faker: Faker): PoolJson[] {
  return ITEM_KINDS.flatMap((kind) =>
    tasks.map((task, index) => ITEM_BUILDERS[kind.name](task, index, faker)),
  );
}
