/** Node's warning for a require() that loads an ES module, as its message starts. */
const REQUIRE_ESM_WARNING = /^CommonJS module .* is loading ES Module .* using require\(\)/;

/**
 * Runs `load`, a require() that reaches an ES module, without the ExperimentalWarning that
 * Node 22.12 prints on stderr (three lines) when the requiring module sits outside
 * node_modules: the checkout's src/cli/main.ts loading yargs 18, src/seed loading faker. An
 * installed package sits under node_modules and is never warned about, nor is anything on
 * Node 20.19+ or a later 22, so without this an error would be one stderr line everywhere but
 * there. Only that warning is dropped, and only while `load` runs; every other warning passes.
 */
export function requireEsmQuietly<T>(load: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    const options = rest[0];
    const type =
      typeof options === 'string' ? options : (options as { type?: unknown } | undefined)?.type;
    if (type === 'ExperimentalWarning' && REQUIRE_ESM_WARNING.test(text)) return;
    emitWarning.call(process, warning as string, ...(rest as []));
  }) as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = emitWarning;
  }
}
