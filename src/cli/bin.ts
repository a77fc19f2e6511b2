#!/usr/bin/env node
/** The CLI's own packages: optional peers, so an app using only the migrations lacks them. */
const CLI_DEPENDENCIES = { yargs: 'yargs@18', 'cli-progress': 'cli-progress@3' };

/**
 * Loads the CLI. Node 22.12 warns on stderr (three lines, at exit) when a CommonJS module outside
 * node_modules loads an ES module with require(), as the checkout's src/cli/main.ts does with
 * yargs 18 (`npm run backfill`); an installed package sits under node_modules and is never
 * warned about, nor is anything on Node 20.19+ or a later 22. Only that warning, and only while
 * main loads, is dropped, so an error stays one stderr line on every Node that `engines` admits.
 */
function loadMain(): typeof import('./main') {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const options = rest[0];
    const type =
      typeof options === 'string' ? options : (options as { type?: unknown } | undefined)?.type;
    if (type === 'ExperimentalWarning' && /is loading ES Module .* using require\(\)/.test(text)) {
      return;
    }
    emitWarning.call(process, warning as string, ...(rest as []));
  }) as typeof process.emitWarning;
  try {
    return require('./main') as typeof import('./main');
  } finally {
    process.emitWarning = emitWarning;
  }
}

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
  if (missing.length > 0) {
    process.stderr.write(
      `goal-backfill: the CLI needs optional peer packages that are not installed: npm install ${missing.join(' ')}\n`,
    );
    process.exitCode = 2;
    return;
  }
  // Loaded only once its packages are known to be there.
  const { main } = loadMain();
  const controller = new AbortController();
  let signalsReceived = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signalsReceived += 1;
    if (signalsReceived === 1) {
      controller.abort(signal);
      return;
    }
    process.stderr.write(`goal-backfill: ${signal} again: stopping now\n`);
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
