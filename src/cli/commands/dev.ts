import type { Command } from 'commander';
import { daemonCommand } from './serve.js';

export function registerDev(program: Command): void {
  daemonCommand(
    program,
    'dev',
    'Run the daemon for local work: like serve, with every sensor and schedule switched on and run logs in the console',
    `
Examples:
  $ BILLING_S3_SENSOR_INTERVAL=1 billing-pipeline dev --source s3://billing/exports/
  $ billing-pipeline dev --port 0          # any free port; see the printed URL`,
  );
}
