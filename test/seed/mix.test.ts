import { describe, expect, it } from 'vitest';
import { INVALID_ITEM_REASONS, SESSION_SKIP_REASONS } from '../../src/backfill/rules';
import { GOAL_STATUSES } from '../../src/names';
import {
  bucketLowerBounds,
  CLINICIAN_GOALS,
  ITEM_COUNT_PER_MILLE,
  ITEM_KINDS,
  planPopulation,
  SESSION_SHAPES,
} from '../../src/seed/mix';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('the proportions', () => {
  it('share out a thousand in every table', () => {
    expect(sum(SESSION_SHAPES.map((shape) => shape.perMille))).toBe(1000);
    expect(sum(ITEM_KINDS.map((kind) => kind.perMille))).toBe(1000);
    expect(sum(ITEM_COUNT_PER_MILLE)).toBe(1000);
    expect(sum(CLINICIAN_GOALS.statusPerMille)).toBe(1000);
    expect(CLINICIAN_GOALS.statusPerMille).toHaveLength(GOAL_STATUSES.length);
  });

  it('cover every reason the backfill skips a session or an item for', () => {
    expect(new Set(SESSION_SHAPES.map((shape) => shape.skipReason))).toEqual(
      new Set([null, ...SESSION_SKIP_REASONS]),
    );
    // Values too long for a column occur only in an app's treatment_goals with varchar(n).
    const limits = ['task_too_long', 'category_too_long', 'details_too_long'];
    expect(new Set(ITEM_KINDS.map((kind) => kind.invalidReason))).toEqual(
      new Set([null, ...INVALID_ITEM_REASONS.filter((reason) => !limits.includes(reason))]),
    );
  });

  it('list the valid item kinds before the invalid ones', () => {
    const firstInvalid = ITEM_KINDS.findIndex((kind) => kind.invalidReason !== null);
    expect(ITEM_KINDS.slice(firstInvalid).every((kind) => kind.invalidReason !== null)).toBe(true);
  });

  it('turn shares into width_bucket lower bounds', () => {
    expect(bucketLowerBounds([690, 100, 210])).toEqual([0, 690, 790]);
    expect(bucketLowerBounds([])).toEqual([]);
  });
});

describe('the population', () => {
  it.each([
    [1, 1, 1],
    [39, 2, 1],
    [2000, 100, 4],
    [1_000_000, 50_000, 1667],
  ])('%i sessions have %i patients and %i therapists', (sessions, patients, therapists) => {
    expect(planPopulation(sessions)).toEqual({ patients, therapists });
  });
});
