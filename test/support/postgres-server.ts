/**
 * A throwaway PostgreSQL server for a test file or the bench: `initdb` into a temporary folder, `pg_ctl
 * start` on a free loopback port with its socket in that folder, a fresh database per test (CREATE DATABASE), and
 * `pg_ctl stop -m fast` and the folder's removal after. Never the system's service. initdb and pg_ctl
 * refuse to run as root: as root they run as the `postgres` user, which owns the folder.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Where initdb and pg_ctl are: Debian's versioned folder (the newest), else PATH; undefined when neither. */
function findBinaries(): string | undefined {
  const has = (dir: string) =>
    ['initdb', 'pg_ctl'].every((name) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // no Debian layout
  }
  const dirs = [
    ...versions.map((v) => join('/usr/lib/postgresql', v, 'bin')),
    ...(process.env['PATH'] ?? '').split(delimiter),
  ];
  return dirs.find((dir) => dir && has(dir));
}

const BIN = findBinaries();
const IN_CI = Boolean(process.env['CI']) && process.env['CI'] !== 'false';

/** Why the tests that need PostgreSQL skip here (outside CI only: CI installs it, and there they fail instead). */
export const POSTGRES_SKIP =
  BIN || IN_CI ? undefined : 'no initdb/pg_ctl in /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)';

/** A running server. */
export interface PostgresServer {
  readonly port: number;
  /** A new, empty database's URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser on the `postgres` database. */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
}

/** initdb, pg_ctl start on a free port; `stop` stops it and removes its folder. */
export async function startPostgres(): Promise<{ server: PostgresServer; stop: () => Promise<void> }> {
  if (!BIN)
    throw new Error(`cannot start PostgreSQL: ${POSTGRES_SKIP ?? 'no initdb/pg_ctl (apt-get install postgresql)'}`);
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-pg-'));
  const data = join(dir, 'data');
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN, name), ...args]) : run(join(BIN, name), args);
  try {
    if (asRoot) {
      const ids = await run('id', ['-u', 'postgres']).then((r) => Number(r.stdout.trim()));
      const gid = await run('id', ['-g', 'postgres']).then((r) => Number(r.stdout.trim()));
      await chown(dir, ids, gid);
    }
    await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
    await tool('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
    const base = `postgresql://postgres@127.0.0.1:${port}`;
    let databases = 0;
    const admin = async <R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]> => {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        return (await client.query<R>(sql, values)).rows;
      } finally {
        await client.end();
      }
    };
    const server: PostgresServer = {
      port,
      admin,
      createDatabase: async () => {
        const name = `switchyard_${process.pid}_${++databases}`;
        await admin(`CREATE DATABASE ${name}`);
        return `${base}/${name}`;
      },
    };
    const stop = async () => {
      await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    };
    return { server, stop };
  } catch (err) {
    await tool('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
