import path from 'node:path';
import type { Knex } from 'knex';
import { describeConnectionString } from './database-url';

interface ClientInternals {
  pglite?: { dataDir?: string };
  connectionSettings?: {
    connectionString?: string;
    host?: string;
    port?: number;
    database?: string;
  };
}

/**
 * Names the database a Knex instance uses, for a log line: the embedded database and its
 * folder, or the server's URL without its password.
 */
export function describeDatabase(knex: Knex): string {
  const client = knex.client as unknown as ClientInternals;
  if (client.pglite) {
    const folder = client.pglite.dataDir;
    return folder
      ? `embedded PGlite in ${path.relative(process.cwd(), folder) || '.'}`
      : 'embedded PGlite in memory';
  }
  const settings = client.connectionSettings ?? {};
  if (settings.connectionString) return describeConnectionString(settings.connectionString);
  const port = settings.port ? `:${settings.port}` : '';
  return `postgres://${settings.host ?? 'localhost'}${port}/${settings.database ?? ''}`;
}
