import { describe, expect, it } from 'vitest';
import { patientChunks, runConcurrently } from '../../src/seed';

describe('the population', () => {
  it('is split into consecutive patient ranges that cover everyone once', () => {
    for (const [patients, sessions] of [
      [1, 1],
      [100, 2000],
      [50_000, 1_000_000],
      [7, 1_000_000],
    ] as const) {
      const ranges = patientChunks(patients, sessions);
      expect(ranges[0]?.first).toBe(1);
      expect(ranges.at(-1)?.last).toBe(patients);
      for (const [index, range] of ranges.entries()) {
        expect(range.first).toBeLessThanOrEqual(range.last);
        if (index > 0) expect(range.first).toBe((ranges[index - 1]?.last ?? 0) + 1);
      }
    }
    expect(patientChunks(50_000, 1_000_000)).toHaveLength(8);
  });
});

describe('runConcurrently', () => {
  it('returns results in input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await runConcurrently([30, 10, 20, 5, 15], 2, async (ms) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running -= 1;
      return ms * 2;
    });
    expect(results).toEqual([60, 20, 40, 10, 30]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after a failure, lets running tasks settle, then throws the first error', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = runConcurrently([1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('first');
      await new Promise((resolve) => setTimeout(resolve, 20));
      settled += 1;
      return item;
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(1);
  });
});
