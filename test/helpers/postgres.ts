// A real PostgreSQL server on 127.0.0.1 (Debian's postgresql) for terraform's `pg` backend: a cluster
// in a temporary directory on a free port, run as the `postgres` user when the tests run as root.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './registry.js';
import { removeDir, tempDir } from './repo.js';

export interface TestPostgres {
  port: number;
  /** A new, empty database; its `PG_CONN_STR`. */
  createDatabase(name: string): string;
  /** Rows of a query, each as a tab-separated line. */
  query(database: string, sql: string): string[];
  stop(): void;
}

export function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  const bin = version ? join(root, version, 'bin') : '';
  if (!bin || !existsSync(join(bin, 'initdb'))) throw new Error('PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)');
  return bin;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinaries();
  const dir = tempDir('atmos-pg-');
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  }
  const run = (program: string, args: string[]) =>
    execFileSync(join(bin, program), args, { encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid, gid: uid } : {}) });
  const port = await freePort();
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const psql = (database: string, sql: string) =>
    execFileSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-At', '-F', '\t', '-c', sql], {
      encoding: 'utf8',
    });
  return {
    port,
    createDatabase(name) {
      psql('postgres', `CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}?sslmode=disable`;
    },
    query: (database, sql) => psql(database, sql).split('\n').filter(Boolean),
    stop() {
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
      } finally {
        removeDir(dir);
      }
    },
  };
}
