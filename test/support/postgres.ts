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
