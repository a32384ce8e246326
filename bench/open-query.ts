/**
 * The reference for `billing-pipeline query`: a bare node that loads DuckDB, opens the warehouse file
 * read-only (as the query command does), runs one SELECT and prints the rows. What is left above this
 * is the CLI's own start-up.
 *
 * usage: node dist/bench/open-query.js '{"db":…,"sql":"SELECT …"}'
 */
import { DuckDBInstance } from '@duckdb/node-api';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as { db: string; sql: string };
  const instance = await DuckDBInstance.create(args.db, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(args.sql);
  process.stdout.write(
    `${JSON.stringify(reader.getRowsJS(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
  );
  connection.closeSync();
  instance.closeSync();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `open-query: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
