import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MS, TEST_CONNECT_TIMEOUT_VARIABLE } from '../../src/config/knex';
import { TEST_SERVER_URL } from '../support/test-database';
import { startBin } from './bin-process';
import { withoutServer } from './cli-harness';

/** Startup and teardown of a CLI process on a busy machine, beyond the connect timeout. */
const SLACK_MS = 20_000;
const COMMANDS = [['run'], ['rollback'], ['status']];
/**
 * The connect timeout the test of a server that never answers sets, in place of the 15 s of
 * CONNECT_TIMEOUT_MS, through the tests-only variable.
 */
const SHORT_CONNECT_TIMEOUT_MS = 1_000;

/** A local TCP server that does `onSocket` with each connection; closed in afterAll. */
async function listen(
  onSocket: (socket: Socket) => void,
): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** Runs every command against `url` at once, as subprocesses; answers how each ended. */
function runAll(url: string, env: Record<string, string> = {}, killAfterMs = 90_000) {
  return Promise.all(
    COMMANDS.map((argv) => startBin(argv, { DATABASE_URL: url, ...env }, killAfterMs).done),
  );
}

describe('every way of not reaching the database exits 2, and the process ends', () => {
  const servers: Server[] = [];
  let refusedPort = 0;

  beforeAll(async () => {
    const closed = await listen(() => undefined);
    refusedPort = closed.port;
    await new Promise((resolve) => closed.server.close(resolve));
  });

  afterAll(async () => {
    for (const server of servers) server.close();
  });

  async function serve(onSocket: (socket: Socket) => void): Promise<string> {
    const { server, port } = await listen(onSocket);
    servers.push(server);
    return `postgres://postgres:pw-never-printed@127.0.0.1:${port}/x`;
  }

  it.each([
    [
      'nobody listening',
      async () => `postgres://postgres@127.0.0.1:${refusedPort}/x`,
      'connection refused [ECONNREFUSED]',
    ],
    [
      'a server that resets the connection',
      () => serve((socket) => socket.resetAndDestroy()),
      'connection reset [ECONNRESET]',
    ],
    [
      'a server that closes the connection after the startup message',
      () => serve((socket) => socket.once('data', () => socket.end())),
      'connection closed by the server',
    ],
  ] as const)('%s: exit 2 at once', async (_name, urlOf, reason) => {
    const url = await urlOf();
    for (const run of await runAll(url)) {
      expect(run.code).toBe(2);
      expect(run.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`(${reason}): check DATABASE_URL`);
      expect(run.stderr).toContain('[DATABASE_UNREACHABLE]');
      expect(run.stderr).not.toContain('pw-never-printed');
    }
  });

  it.skipIf(withoutServer)(
    'sslmode=require against a server without SSL: exit 2 at once',
    async () => {
      const url = new URL(TEST_SERVER_URL);
      url.searchParams.set('sslmode', 'require');
      for (const run of await runAll(url.toString())) {
        expect(run.code).toBe(2);
        expect(run.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS);
        expect(run.stderr).toContain('(the server does not support SSL (check sslmode))');
        expect(run.stderr).toContain('[DATABASE_UNREACHABLE]');
      }
    },
  );

  it('a server that accepts and never answers: exit 2 after the connect timeout, then the process ends', async () => {
    const url = await serve(() => undefined);
    const env = { [TEST_CONNECT_TIMEOUT_VARIABLE]: String(SHORT_CONNECT_TIMEOUT_MS) };
    for (const run of await runAll(url, env)) {
      expect(run.code).toBe(2);
      expect(run.elapsedMs).toBeGreaterThanOrEqual(SHORT_CONNECT_TIMEOUT_MS);
      expect(run.elapsedMs).toBeLessThan(SHORT_CONNECT_TIMEOUT_MS + SLACK_MS);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain('(timed out waiting for a connection): check DATABASE_URL');
      expect(run.stderr).toContain('[DATABASE_UNREACHABLE]');
      expect(run.stderr).not.toContain('pw-never-printed');
    }
  }, 120_000);

  it('a bad tests-only connect timeout: exit 2 with one line saying what to fix', async () => {
    const url = await serve(() => undefined);
    const values = ['abc', '0', '600001'];
    const runs = await Promise.all(
      COMMANDS.map(
        (argv, i) =>
          startBin(argv, { DATABASE_URL: url, [TEST_CONNECT_TIMEOUT_VARIABLE]: values[i] ?? '' })
            .done,
      ),
    );
    for (const [i, run] of runs.entries()) {
      expect(run.code).toBe(2);
      expect(run.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(
        `${TEST_CONNECT_TIMEOUT_VARIABLE} must be a whole number of milliseconds from 1 to 600000 (got ${JSON.stringify(values[i])})`,
      );
    }
  });
});
