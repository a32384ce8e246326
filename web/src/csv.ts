/**
 * CSV for downloads from the UI: the same code as the server's CSV route (src/server/sql-csv.ts,
 * DOM-free), so a file downloaded either way is formula-safe in the same way.
 */
export { type CsvColumn, csvCell, csvLine, isNumericType, toCsv } from '../../src/server/sql-csv.js';
