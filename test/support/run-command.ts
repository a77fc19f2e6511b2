import { execFile } from 'node:child_process';
import path from 'node:path';

export const PROJECT_ROOT = path.join(__dirname, '..', '..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a command a user types: this process's, without TEST_DATABASE_URL, then
 * `env`. Vitest sets NODE_ENV=test, under which the knexfile reads TEST_DATABASE_URL before
 * DATABASE_URL, so a command left with it would reach the test server's maintenance database
 * rather than the `DATABASE_URL` its test gives it.
 */
export function userEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  return { ...process.env, TEST_DATABASE_URL: undefined, ...env };
}

/** Runs a command from the project root, as a user would type it, and never rejects. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd: PROJECT_ROOT,
        env: userEnvironment(env),
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
