import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../support/run-command';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from start to the process's end. */
  elapsedMs: number;
}

/**
 * bin.ts started directly (so signals reach it, not npm), with its output as it arrives. It is
 * killed after `killAfterMs`, so a hanging process fails its test instead of the suite.
 */
export function startBin(args: string[], env: Record<string, string>, killAfterMs = 50_000) {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['-r', 'sucrase/register/ts', 'src/cli/bin.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ...output, code, elapsedMs: Date.now() - startedAt });
    });
  });
  return { child, output, done };
}

/** Resolves once `condition` holds, checking every 50 ms for up to `limitMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  limitMs = 20_000,
): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('timed out waiting for the condition');
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
}
