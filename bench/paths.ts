import path from 'node:path';

/** The project's migrations, which the benchmark runs on its scratch database. */
export const MIGRATIONS_DIRECTORY = path.join(__dirname, '..', 'migrations');
