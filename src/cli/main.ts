import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help } from 'commander';
import { COMMANDS } from './command-table.js';
import { resetConfigWarnings } from './config-warnings.js';
import { escapeControlChars } from './format.js';

/** The package's version: package.json two folders up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'billing-pipeline' && parsed.version) return parsed.version;
    } catch {
      // Not this folder: try the next.
    }
  }
  return 'unknown';
}

/** The command the arguments name (`help X` names X), if any. */
function commandNamed(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

function baseProgram(): Command {
  return new Command('billing-pipeline')
    .description(
      'Incremental, idempotent billing pipeline: Hive-partitioned CSVs in S3 to exact DuckDB aggregates',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
}

/**
 * The program for these arguments: the command they name is registered in full, every other one
 * as a placeholder with its name and description, enough for the top-level help and for
 * "unknown command" suggestions. So `--help` loads no command module.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const named = commandNamed(argv);
  const entry = COMMANDS.find((c) => c.name === named);
  const register = entry ? await entry.load() : null;
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) =>
      cmd.name() === named ? help.subcommandTerm(cmd) : (terms.get(cmd.name()) ?? help.subcommandTerm(cmd)),
  });
  for (const command of COMMANDS) {
    if (command === entry && register) register(program);
    else program.command(command.name).description(command.description);
  }
  return program;
}

/** Every command registered in full (tests compare it with the placeholders). */
export async function buildFullProgram(): Promise<Command> {
  const program = baseProgram();
  const registers = await Promise.all(COMMANDS.map((c) => c.load()));
  for (const register of registers) register(program);
  return program;
}

/** The one place errors become messages and exit codes: 2 for usage, 1 for everything else. */
export async function main(argv: readonly string[]): Promise<number> {
  resetConfigWarnings();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    // Loaded only on this path: the error classes' modules are not needed to show help.
    const [{ ConfigError, SettingError }, { AssetGraphError }, { SourceError }, { UsageError }] =
      await Promise.all([
        import('../config/errors.js'),
        import('../orchestrator/asset-graph.js'),
        import('../sources/source.js'),
        import('./usage-error.js'),
      ]);
    const usage =
      error instanceof UsageError ||
      error instanceof SettingError ||
      error instanceof RangeError ||
      error instanceof AssetGraphError;
    const known = usage || error instanceof ConfigError || error instanceof SourceError;
    const message = error instanceof Error ? error.message : String(error);
    // Messages quote file keys and values from the data: control characters print as escapes.
    process.stderr.write(`error: ${escapeControlChars(message, { keepNewlines: true })}\n`);
    if (!known && process.env.BILLING_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return usage ? 2 : 1;
  }
}
