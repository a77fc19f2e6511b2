/**
 * The packages the CLI needs beyond the library's, with what to install. They are optional
 * peer dependencies, so an app that installs goal-backfill only for its migrations does not
 * carry them.
 */
export const CLI_DEPENDENCIES = { yargs: 'yargs@18', 'cli-progress': 'cli-progress@3' } as const;

/** The install specs of the CLI's packages that cannot be resolved from here. */
export function missingCliDependencies(
  resolve: (name: string) => string = require.resolve,
): string[] {
  return Object.entries(CLI_DEPENDENCIES).flatMap(([name, spec]) => {
    try {
      resolve(name);
      return [];
    } catch {
      return [spec];
    }
  });
}
