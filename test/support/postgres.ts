/**
 * A throwaway PostgreSQL server for a test file. The server-starting code lives in
 * src/dev/postgres-server.ts (the benchmark's scale-out section uses it too); the tests import it
 * from here.
 */
export {
  createDatabase,
  type PostgresServer,
  postgresAvailable,
  postgresBinDir,
  startPostgres,
} from '../../src/dev/postgres-server.js';

import { afterAll, beforeAll } from 'vitest';
import { type PostgresServer, postgresAvailable, startPostgres } from '../../src/dev/postgres-server.js';

/**
 * This test file's PostgreSQL server: started in beforeAll where PostgreSQL is available, stopped
 * after the file. `available` is false (the PostgreSQL tests skip) only outside CI without it.
 */
export function postgresPerFile(): { available: boolean; server(): PostgresServer } {
  const available = postgresAvailable();
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    if (available) server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    available,
    server() {
      if (!server) throw new Error('the PostgreSQL test server is not running');
      return server;
    },
  };
}
