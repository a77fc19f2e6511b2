import type { PatientRange } from './session-plan-sql';

/** Sessions one insert statement generates, about: big enough to amortise planning, small enough to spread over cores. @default 125000 */
export const SESSIONS_PER_CHUNK = 125_000;

/**
 * Splits patients 1…`patients` into consecutive ranges holding about `sessionsPerChunk`
 * sessions each (patients have about the same number of sessions on average). Each range is
 * inserted by one statement; the ranges only decide which statement writes a row, never its
 * contents.
 */
export function patientChunks(
  patients: number,
  sessions: number,
  sessionsPerChunk: number = SESSIONS_PER_CHUNK,
): PatientRange[] {
  const chunks = Math.max(1, Math.min(patients, Math.ceil(sessions / sessionsPerChunk)));
  const size = Math.ceil(patients / chunks);
  const ranges: PatientRange[] = [];
  for (let first = 1; first <= patients; first += size) {
    ranges.push({ first, last: Math.min(patients, first + size - 1) });
  }
  return ranges;
}
