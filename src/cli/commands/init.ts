import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configTemplate } from '../../config/template.js';
import { CONFIG_FILE_NAME, loadConfig } from '../../config.js';
import { UsageError } from '../context.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(`Write a commented ${CONFIG_FILE_NAME} with every setting, its variable and its default`)
    .argument('[file]', 'where to write it', CONFIG_FILE_NAME)
    .option('--force', 'overwrite an existing file')
    .addHelpText(
      'after',
      `
Every command, the daemon and the workers read ${CONFIG_FILE_NAME} from the working directory (or
$BILLING_HOME, or --config FILE / BILLING_CONFIG). Flags override variables, which override the file.

Examples:
  $ billing-pipeline init
  $ billing-pipeline init deploy/billing-pipeline.yaml --force`,
    )
    .action(async (file: string, flags: { force?: boolean }) => {
      const path = resolve(file);
      if (existsSync(path) && !flags.force)
        throw new UsageError(`${path} already exists; pass --force to overwrite it`);
      const text = configTemplate();
      await writeFile(path, text);
      // What was written must load: a template that fails its own schema is a bug caught here.
      loadConfig({}, { config: path });
      process.stdout.write(`wrote ${path}\n`);
    });
}
