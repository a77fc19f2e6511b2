#!/usr/bin/env node
import { requireEsmQuietly } from '../logging';

/** The CLI's own packages: optional peers, so an app using only the migrations lacks them. */
const CLI_DEPENDENCIES = { yargs: 'yargs@18', 'cli-progress': 'cli-progress@3' };

/**
 * Runs `goal-backfill` on this process. The first SIGINT or SIGTERM asks the command to stop
 * (a run stops after its current page); a second one exits at once, which is still safe: the
 * lock dies with the connection, and the last committed page's checkpoint stays.
 */
function runFromProcess(): void {
  const missing = Object.entries(CLI_DEPENDENCIES).flatMap(([name, spec]) => {
    try {
      require.resolve(name);
      return [];
    } catch {
      return [spec];
    }
  });
  // Neither loads yargs: these lines come before the CLI's own packages are known to be there.
  const { cliLogFormat } = require('./flags') as typeof import('./flags');
  const { renderLogLine } = require('../logging') as typeof import('../logging');
  const json = cliLogFormat(process.argv.slice(2), process.env) === 'json';
  const say = (level: 'error' | 'warn', event: string, notice: string, plain: string) =>
    process.stderr.write(json ? renderLogLine('json', level, event, { notice }) : `${plain}\n`);
  if (missing.length > 0) {
    const notice = `the CLI needs optional peer packages that are not installed: npm install ${missing.join(' ')}`;
    say('error', 'cli.error', notice, `goal-backfill: ${notice}`);
    process.exitCode = 2;
    return;
  }
  // Loaded only once its packages are known to be there; main requires yargs, an ES module.
  const { main } = requireEsmQuietly(() => require('./main') as typeof import('./main'));
  const controller = new AbortController();
  let signalsReceived = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalsReceived += 1;
    if (signalsReceived === 1) {
      controller.abort(signal);
      return;
    }
    say(
      'warn',
      'cli.warning',
      `${signal} again: stopping now`,
      `goal-backfill: ${signal} again: stopping now`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    signal: controller.signal,
  })
    .catch(() => 1)
    .then((code) => {
      // The handlers stay: a signal while the process winds down (closing the pool or PGlite)
      // still exits 130 at once rather than by the signal's default action.
      process.exitCode = code;
    });
}

runFromProcess();
