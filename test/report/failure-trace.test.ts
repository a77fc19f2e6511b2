import { describe, expect, it } from 'vitest';
import { renderFailureTrace } from '../../src/report/failure-trace';

const MARKER = 'ROW-VALUE-MARKER-77';

describe('renderFailureTrace', () => {
  it('gives stack frames and safe cause lines, never a message that may quote row values', () => {
    const databaseError = Object.assign(new Error(`duplicate key (${MARKER})`), {
      code: '23505',
      severity: 'ERROR',
      constraint: 'treatment_goals_patient_description_key',
    });
    const err = new Error(`wrapped: ${MARKER}`, { cause: databaseError });
    const lines = renderFailureTrace(err);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines[0]).toMatch(/^\s+at /);
    expect(lines).toContain(
      'caused by: unique_violation (constraint treatment_goals_patient_description_key) [23505]',
    );
    expect(lines.join('\n')).not.toContain(MARKER);
  });

  it('drops message lines shaped like frames, from the error and from its causes', () => {
    const frameLike = [
      `    at ${MARKER}`,
      `    at ${MARKER} (/app/${MARKER}.js:1:2)`,
      `    at /srv/${MARKER}:3:4`,
    ].join('\n');
    const databaseError = Object.assign(new Error(`rejected\n${frameLike}`), {
      code: 'P0001',
      severity: 'ERROR',
      detail: `detail\n${frameLike}`,
      hint: `    at ${MARKER}-hint (x.js:1:1)`,
    });
    const err = new Error(`wrapped\n${frameLike}`, { cause: databaseError });
    const lines = renderFailureTrace(err);
    expect(lines.some((line) => /^\s+at /.test(line))).toBe(true);
    expect(lines).toContain('caused by: raise_exception [P0001]');
    expect(lines.join('\n')).not.toContain(MARKER);
  });

  it('is empty for a value that is not an error', () => {
    expect(renderFailureTrace('just a string')).toEqual([]);
  });
});
