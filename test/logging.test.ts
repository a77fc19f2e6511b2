import { describe, expect, it } from 'vitest';
import { knexLogHooks } from '../src/logging';
import { CapturingLogger } from './support/capturing-logger';

describe('knexLogHooks', () => {
  it.each([
    [
      'warn',
      'migration file "20261201_x.js" failed',
      'debug',
      'knex.warning',
      'migration file "20261201_x.js" failed',
    ],
    [
      'warn',
      'migration failed with error: relation "x" violates PLANTED',
      'debug',
      'knex.warning',
      'migration failed with error',
    ],
    [
      'warn',
      "Can't take lock to run migrations: Migration table is already locked",
      'debug',
      'knex.warning',
      "Can't take lock to run migrations: Migration table is already locked",
    ],
    [
      'deprecate',
      'json(true) is deprecated, please use jsonb()',
      'warn',
      'knex.deprecation',
      'json(true) is deprecated, please use jsonb()',
    ],
  ] as const)('%s %j: %s %s with notice %j', (hook, message, level, event, notice) => {
    const logger = new CapturingLogger();
    knexLogHooks(logger)[hook](message);
    expect(logger.events).toEqual([{ level, event, fields: { notice } }]);
  });

  it.each([
    ['warn', 'Connection Error: error: duplicate key (PLANTED)=(x)'],
    ['error', 'Acquire connection error: PLANTED stack'],
    ['warn', { PLANTED: true }],
  ] as const)('drops %s %j, whose text may quote the database', (hook, message) => {
    const logger = new CapturingLogger();
    knexLogHooks(logger)[hook](message);
    expect(logger.events).toEqual([]);
  });

  it('logs debug output (a query with its bindings) as its method only', () => {
    const logger = new CapturingLogger();
    knexLogHooks(logger).debug({ method: 'insert', sql: 'insert …', bindings: ['PLANTED'] });
    knexLogHooks(logger).debug('PLANTED text');
    expect(logger.events).toEqual([
      { level: 'debug', event: 'knex.debug', fields: { method: 'insert' } },
      { level: 'debug', event: 'knex.debug', fields: { method: null } },
    ]);
    expect(logger.text()).not.toContain('PLANTED');
  });
});
