import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors';
import { readSeedSettings } from '../../src/seed/settings';

describe('SEED_SESSIONS', () => {
  it('defaults to 2000 and takes a whole number', () => {
    expect(readSeedSettings({}).sessions).toBe(2000);
    expect(readSeedSettings({ SEED_SESSIONS: '' }).sessions).toBe(2000);
    expect(readSeedSettings({ SEED_SESSIONS: ' 1000000 ' }).sessions).toBe(1_000_000);
  });

  it.each(['abc', '0', '-5', '1.5', '1e6', '10000001', '2_000'])(
    'refuses %j with one line that says what to set',
    (value) => {
      const read = () => readSeedSettings({ SEED_SESSIONS: value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(
        `SEED_SESSIONS must be a whole number from 1 to 10000000, e.g. SEED_SESSIONS=2000 (got "${value.trim()}")`,
      );
      try {
        read();
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    },
  );

  it('is reported together with bad GOAL_BACKFILL_* variables', () => {
    expect(() =>
      readSeedSettings({ SEED_SESSIONS: 'lots', GOAL_BACKFILL_BATCH_SIZE: 'big' }),
    ).toThrow(/SEED_SESSIONS must be .*; GOAL_BACKFILL_BATCH_SIZE must be a whole number/);
  });

  it('passes the GOAL_BACKFILL_* settings on', () => {
    const settings = readSeedSettings({ GOAL_BACKFILL_BATCH_SIZE: '5000' });
    expect(settings.backfill.batchSize).toBe(5000);
  });
});
