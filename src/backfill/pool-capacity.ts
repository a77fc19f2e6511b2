import type { Knex } from 'knex';
import { ConfigError } from '../errors/config-error';

/**
 * Throws {@link ConfigError} when the Knex pool cannot give `workers` connections at once, so a
 * run never waits on its own pool until Knex's acquire timeout.
 */
export function assertPoolAllowsWorkers(knex: Knex, workers: number): void {
  if (workers <= 1) return;
  const pool = (knex.client as { pool?: { max?: unknown } }).pool;
  const configured = (knex.client.config as { pool?: { max?: unknown } }).pool?.max;
  const max = typeof pool?.max === 'number' ? pool.max : configured;
  if (typeof max === 'number' && max < workers) {
    throw new ConfigError([
      `workers is ${workers} but the Knex pool allows ${max} connection${max === 1 ? '' : 's'}: ` +
        `raise pool.max to at least ${workers}, or lower workers`,
    ]);
  }
}
