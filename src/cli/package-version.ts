import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The `version` of this package's package.json. It sits two directories up from this file both
 * in `src/cli` and in the built `dist/cli`.
 */
export function readPackageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const version = (parsed as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
