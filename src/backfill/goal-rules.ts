/**
 * The backfill's rules, defined once. The SQL that applies them is generated from these
 * constants (see goal-statement.ts), and the tests check the SQL against a reference model.
 */

/**
 * The characters that JavaScript's `String.prototype.trim` removes: WhiteSpace and
 * LineTerminator in ECMAScript 2024. U+0085, U+180E and U+200B are deliberately absent,
 * because `trim` keeps them too.
 */
export const JS_TRIM_CHARACTERS =
  '\u0009\u000A\u000B\u000C\u000D\u0020\u00A0\u1680' +
  '\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A' +
  '\u2028\u2029\u202F\u205F\u3000\uFEFF';

/** The category of a goal whose item has no usable category. */
export const DEFAULT_CATEGORY = 'general';
