import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The server binaries of the machine's own PostgreSQL (Debian's packages). */
export const DEBIAN_BIN_DIR = '/usr/lib/postgresql/15/bin';

/** Whether a throwaway cluster can be made here: the server binaries are installed. */
export function canMakeClusters(binDir = DEBIAN_BIN_DIR): boolean {
  return existsSync(path.join(binDir, 'initdb'));
}

/** A PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1, for one test file. */
export interface ThrowawayCluster {
  /** The data directory, for `pg_resetwal` and `pg_controldata`. */
  dataDir: string;
  /** The URL of `database` on this cluster. */
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
 * Creates and starts a cluster with `initdb` (trust authentication, user postgres). The
 * server refuses to run as root, so as root every binary runs as the `postgres` user, who owns
 * the folder.
 */
export async function createThrowawayCluster(binDir = DEBIAN_BIN_DIR): Promise<ThrowawayCluster> {
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
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c autovacuum=off`;
  const cluster: ThrowawayCluster = {
    dataDir: data,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    tool,
    async start() {
      await tool('pg_ctl', [
        '-D',
        data,
        '-o',
        options,
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
