#!/usr/bin/env node
import '../quiet-sdk-warning.js';
import { escapeControlChars } from './format.js';
import { main } from './main.js';

/*
 * Last resorts, for faults that escape main()'s error handling: an error nobody was listening for
 * (a stream's 'error' event) still ends in one line and exit 1, not Node's stack trace; and if the
 * event loop empties while main() still waits (a promise that can never settle), the command says
 * so and exits 1 instead of Node's silent exit 13.
 */
let settled = false;

/*
 * A reader that stops early (`| head`, a pager quit) closes the pipe: that is the reader's choice,
 * not an error. Output to it ends quietly; the command still finishes (so an open warehouse is
 * closed cleanly) and keeps its own exit code. Its other stream may still be open: only the
 * closed one goes quiet.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (() => true) as typeof stream.write;
  });
}
process.on('uncaughtException', (error) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${escapeControlChars(message, { keepNewlines: true })}\n`);
  if (process.env.BILLING_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  process.exit(1);
});
process.on('exit', (code) => {
  if (settled || (code !== 0 && code !== 13)) return;
  process.stderr.write(
    'error: the command stopped before finishing: it was waiting for an operation that can no longer complete (a bug; run again with BILLING_DEBUG=1 and report it)\n',
  );
  process.exitCode = 1;
});

process.exitCode = await main(process.argv.slice(2));
settled = true;
