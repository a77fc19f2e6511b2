import type { Faker } from '@faker-js/faker';
import type { PoolJson, PoolTask } from './pool-json';
import { ITEM_KINDS, type ItemKindName } from './seed-proportions';
import { BLANK_TASKS, TASK_PADDING } from './therapy-phrases';

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
