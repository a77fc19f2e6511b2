import { describe, expect, it } from 'vitest';
import { JS_TRIM_CHARACTERS } from '../../src/backfill/rules';

describe('JS_TRIM_CHARACTERS', () => {
  it('holds exactly the BMP characters String.prototype.trim removes', () => {
    const trimmed: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const char = String.fromCharCode(code);
      if (char.trim() === '') trimmed.push(char);
    }
    expect([...JS_TRIM_CHARACTERS].sort()).toEqual(trimmed.sort());
  });

  it('has no character outside the BMP that trim removes', () => {
    for (let code = 0x10000; code <= 0x10ffff; code += 0x100) {
      expect(String.fromCodePoint(code).trim()).not.toBe('');
    }
  });
});
