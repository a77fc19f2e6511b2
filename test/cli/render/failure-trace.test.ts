import { describe, expect, it } from 'vitest';
import { renderFailureTrace } from '../../../src/cli/render/failure-trace';

const MARKER = 'ROW-VALUE-MARKER-77';

describe('renderFailureTrace', () => {
  it('gives stack frames and safe cause lines, never a message that may quote row values', () => {
    const databaseError = Object.assign(new Error(`duplicate key (${MARKER})`), {
      code: '23505',
      severity: 'ERROR',
      constraint: 'goals_key',
    });
    const err = new Error(`wrapped: ${MARKER}`, { cause: databaseError });
    const lines = renderFailureTrace(err);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines[0]).toMatch(/^\s+at /);
    expect(lines).toContain('caused by: unique_violation (constraint goals_key) [23505]');
    expect(lines.join('\n')).not.toContain(MARKER);
  });

  it('is empty for a value that is not an error', () => {
    expect(renderFailureTrace('just a string')).toEqual([]);
  });
});
