/**
 * SQL fragments that replace randomness with a hash of the row number, so that the same seed
 * gives the same rows on every run, on any machine. They refer to the `params` CTE of
 * {@link generatorParamsCte}, whose `seed` column salts every hash.
 */

/**
 * Independent hash streams: each choice draws from its own stream, so changing how one
 * choice is made never shifts another. The numbers are part of the data: changing one
 * changes the seeded rows.
 */
export const HASH_STREAMS = {
  patientWeight: 1,
  therapistOfPatient: 2,
  carePlan: 3,
  firstSessionDay: 4,
  firstName: 5,
  lastName: 6,
  credential: 7,
  emailDomain: 8,
  joinedDaysAgo: 9,
  joinedMinute: 10,
  sessionShape: 20,
  itemCount: 21,
  noteTemplate: 22,
  shapeVariant: 23,
  sessionTime: 24,
  dayJitter: 25,
  therapistCover: 26,
  coveringTherapist: 27,
  itemKind: 40,
  carriedOver: 41,
  carePlanSlot: 42,
  anyTask: 43,
  itemVariant: 44,
  goalChosen: 60,
  goalFromCarePlan: 61,
  goalWording: 62,
  goalCategory: 63,
  goalDetails: 64,
  goalStatus: 65,
  goalCreatedDay: 66,
  goalUpdatedDays: 67,
  therapistIdHigh: 100,
  therapistIdLow: 101,
  patientIdHigh: 102,
  patientIdLow: 103,
  sessionIdHigh: 104,
  sessionIdLow: 105,
  goalIdHigh: 106,
  goalIdLow: 107,
} as const;

export type HashStream = keyof typeof HASH_STREAMS;

/** Streams per seed: each seed owns this many consecutive hash salts. */
const STREAMS_PER_SEED = 1024;

/**
 * A non-negative bigint hash of the integer SQL `expression` in `stream`. Use `% m` for a
 * choice among m, or compare `% 1000` with a share in thousandths.
 */
export function hashOf(expression: string, stream: HashStream): string {
  return `(hashint8extended(CAST(${expression} AS bigint), params.seed * ${STREAMS_PER_SEED} + ${HASH_STREAMS[stream]}) & 9223372036854775807)`;
}

/** The kinds of rows that get a seeded id; each kind has its own id space. */
export type SeededIdKind = 'therapist' | 'patient' | 'session' | 'goal';

/** Clears the version nibble (bits 12–15) of the high half and sets it to 8. */
const VERSION_8 = '& -61441) | 32768';
/** Sets the top two bits of the low half to 10, the RFC 9562 variant. */
const RFC_VARIANT = '& 4611686018427387903) | -9223372036854775808';

/**
 * A UUID derived from the seed, the kind of row and the integer SQL `expression`: two 64-bit
 * hashes, stamped as an RFC 9562 version 8 (custom) UUID with the RFC variant. About four
 * times cheaper than an MD5, which matters at a million rows.
 */
export function seededUuid(kind: SeededIdKind, expression: string): string {
  const salt = (stream: HashStream) =>
    `params.seed * ${STREAMS_PER_SEED} + ${HASH_STREAMS[stream]}`;
  const half = (stream: HashStream, stamp: string) =>
    `int8send((hashint8extended(CAST(${expression} AS bigint), ${salt(stream)}) ${stamp})`;
  return `CAST(encode(${half(`${kind}IdHigh`, VERSION_8)} || ${half(`${kind}IdLow`, RFC_VARIANT)}, 'hex') AS uuid)`;
}
