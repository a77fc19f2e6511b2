import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The server binaries of the machine's own PostgreSQL (Debian's packages). */
export const DEBIAN_BIN_DIR = '/usr/lib/postgresql/15/bin';

/**
 * The server binaries the tests' own clusters use: TEST_PG_BIN_DIR (another major's `bin`
 * folder, as `npm run test:pg-matrix` sets it), else the machine's PostgreSQL 15.
 */
export const TEST_PG_BIN_DIR = process.env.TEST_PG_BIN_DIR ?? DEBIAN_BIN_DIR;

/**
 * Whether a throwaway cluster can be made from `binDir`: it holds the server binaries and the
 * other `tools` the caller runs (`pg_resetwal`, `vacuumdb`, …).
 */
export function canMakeClusters(tools: readonly string[] = [], binDir = TEST_PG_BIN_DIR): boolean {
  return ['initdb', 'pg_ctl', 'postgres', ...tools].every((name) =>
    existsSync(path.join(binDir, name)),
  );
}

/** How {@link createThrowawayCluster} makes a cluster. */
export interface ThrowawayClusterOptions {
  /**
   * The folder of `initdb`, `pg_ctl`, `postgres` and the tools {@link ThrowawayCluster.tool} runs.
   * @default TEST_PG_BIN_DIR
   */
  binDir?: string;
  /** Server settings beyond `listen_addresses` and `fsync=off`, as `-c name=value`. */
  settings?: Readonly<Record<string, string>>;
  /**
   * The password of user postgres, which connections to 127.0.0.1 must give by SCRAM
   * (`scram-sha-256` in pg_hba.conf), as most servers an app meets do; the cluster's own
   * socket, which its tools use, stays trust. @default none: trust everywhere
   */
  scramPassword?: string;
}

/** A PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1, for one test file. */
export interface ThrowawayCluster {
  /** The data directory, for `pg_resetwal` and `pg_controldata`. */
  dataDir: string;
  /** The URL of `database` on this cluster, as user postgres without a password. */
  url(database?: string): string;
  /** Runs one of the cluster's binaries (`pg_resetwal`, `vacuumdb`, …) as its owner. */
  tool(name: string, args: readonly string[]): Promise<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes the folder. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates and starts a cluster with `initdb` (user postgres, UTF8 in the C.UTF-8 locale, as the
 * machine's own server; trust authentication, or SCRAM over TCP with `options.scramPassword`).
 * The server refuses to run as root, so as root every binary runs as the `postgres` user, who
 * owns the folder.
 */
export async function createThrowawayCluster(
  options: ThrowawayClusterOptions = {},
): Promise<ThrowawayCluster> {
  const binDir = options.binDir ?? TEST_PG_BIN_DIR;
  const folder = mkdtempSync(path.join(tmpdir(), 'goal-backfill-cluster-'));
  const data = path.join(folder, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(folder, Number(stdout.trim()), Number(gid.trim()));
  }
  const tool = async (name: string, args: readonly string[]) => {
    const bin = path.join(binDir, name);
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
      : [bin, [...args]];
    const { stdout } = await run(file, argv, { cwd: folder, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  };
  const port = await freePort();
  const passwordFile = path.join(folder, 'password');
  if (options.scramPassword !== undefined) {
    writeFileSync(passwordFile, `${options.scramPassword}\n`, { mode: 0o644 });
  }
  const auth =
    options.scramPassword === undefined
      ? ['-A', 'trust']
      : ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${passwordFile}`];
  await tool('initdb', [
    '-D',
    data,
    ...auth,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const settings = { listen_addresses: '127.0.0.1', fsync: 'off', ...options.settings };
  const serverOptions = [
    `-p ${port} -k ${folder}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  const cluster: ThrowawayCluster = {
    dataDir: data,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    tool,
    async start() {
      await tool('pg_ctl', [
        '-D',
        data,
        '-o',
        serverOptions,
        '-l',
        path.join(folder, 'log'),
        '-w',
        'start',
      ]);
    },
    async stop() {
      await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async destroy() {
      await cluster.stop().catch(() => {});
      rmSync(folder, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
