import { describe, expect, it } from 'vitest';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/rules';
import { BLANK_TASKS, TASK_PADDING } from '../../src/seed/wording';

describe('the wording', () => {
  it('blank tasks are blank and padding is whitespace under JavaScript trim', () => {
    for (const blank of BLANK_TASKS) expect(blank.trim()).toBe('');
    for (const padding of TASK_PADDING) {
      expect(padding).not.toBe('');
      expect([...padding].every((character) => JS_TRIM_CHARACTERS.includes(character))).toBe(true);
    }
  });
});
