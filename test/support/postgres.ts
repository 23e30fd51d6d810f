/**
 * The throwaway PostgreSQL server of one test file, started before its tests and stopped after
 * (postgres-server.ts starts and stops it).
 */
import { afterAll, beforeAll } from 'vitest';

import { POSTGRES_SKIP, type PostgresServer, startPostgres } from './postgres-server.js';

export { POSTGRES_SKIP, type PostgresServer, startPostgres } from './postgres-server.js';

/**
 * Starts a server before the file's tests and stops it after; call `server()` inside tests. Registers
 * nothing when `POSTGRES_SKIP` says the tests skip.
 */
export function postgresServer(): { server: () => PostgresServer } {
  let started: { server: PostgresServer; stop: () => Promise<void> } | undefined;
  if (POSTGRES_SKIP) console.warn(`skipping the tests that need a PostgreSQL server: ${POSTGRES_SKIP}`);
  else {
    beforeAll(async () => {
      started = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await started?.stop();
    }, 60_000);
  }
  return {
    server: () => {
      if (!started) throw new Error('the PostgreSQL server is only ready inside tests');
      return started.server;
    },
  };
}
