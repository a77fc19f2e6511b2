import { describe, expect, it } from 'vitest';
import { ITEM_KINDS } from '../../src/seed/mix';
import { buildSeedPools, POOL_SIZES } from '../../src/seed/pools';

describe('the pools Faker words', () => {
  it('are the same for the same seed, whatever was built in between', () => {
    const first = buildSeedPools(7);
    const other = buildSeedPools(8);
    expect(buildSeedPools(7)).toEqual(first);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
  });

  it('hold distinct, trimmed tasks and clinician wordings that are never tasks', () => {
    const pools = buildSeedPools(1);
    const tasks = pools.tasks.map((task) => task.task);
    expect(tasks.length).toBeGreaterThan(POOL_SIZES.tasks * 0.9);
    expect(new Set(tasks).size).toBe(tasks.length);
    for (const task of tasks) expect(task.trim()).toBe(task);
    const taskSet = new Set(tasks);
    expect(pools.clinicianGoals.length).toBeGreaterThan(10);
    for (const wording of pools.clinicianGoals) expect(taskSet.has(wording)).toBe(false);
  });

  it('prebuild one action item per kind and task, in ITEM_KINDS order', () => {
    const pools = buildSeedPools(1);
    const tasks = pools.tasks.length;
    expect(pools.actionItems).toHaveLength(ITEM_KINDS.length * tasks);
    const block = (name: (typeof ITEM_KINDS)[number]['name']) => {
      const start = ITEM_KINDS.findIndex((kind) => kind.name === name) * tasks;
      return pools.actionItems.slice(start, start + tasks);
    };
    expect(block('complete')[0]).toEqual(pools.tasks[0]);
    expect(block('no_category').every((item) => !Object.hasOwn(Object(item), 'category'))).toBe(
      true,
    );
    expect(block('task_only').every((item) => Object.keys(Object(item)).join() === 'task')).toBe(
      true,
    );
    expect(
      block('padded_task').every((item, index) => {
        const task = (item as { task: string }).task;
        return task !== pools.tasks[index]?.task && task.trim() === pools.tasks[index]?.task;
      }),
    ).toBe(true);
    expect(block('blank_task').every((item) => (item as { task: string }).task.trim() === '')).toBe(
      true,
    );
    expect(block('not_an_object').every((item) => item === null || typeof item !== 'object')).toBe(
      true,
    );
  });

  it('word some categories messily and some details as structured data', () => {
    const pools = buildSeedPools(1);
    const categories = pools.tasks.map((task) => task.category);
    expect(categories.some((category) => typeof category !== 'string')).toBe(true);
    expect(
      categories.some(
        (category) => typeof category === 'string' && category !== category.trim().toLowerCase(),
      ),
    ).toBe(true);
    expect(pools.tasks.some((task) => typeof task.details !== 'string')).toBe(true);
  });
});
