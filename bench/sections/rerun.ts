import { CLI, runNode } from '../child.js';
import { addFigure, type BenchContext, type MaterializeRun, materialize, seconds } from '../context.js';
import type { PhaseSplit } from '../ledger.js';
import { judge, median } from '../stats.js';
import type { History } from './history.js';

const S = 'no-op re-run';

/**
 * Section 3: `materialize` with nothing new, on the warehouse the history section left (90+ days in
 * 4 files a day, from the local S3). Two reference points split the fixed cost a user pays on every
 * scheduled run: a bare `node` start, and the CLI's module graph (`billing-pipeline --help`).
 */
export async function rerun(ctx: BenchContext, history: History): Promise<void> {
  const runs: MaterializeRun[] = [];
  const bare: number[] = [];
  const help: number[] = [];
  for (let rep = 1; rep <= ctx.options.reps; rep++) {
    runs.push(
      await materialize(ctx, { source: history.source, home: history.home, warehouse: history.warehouse }),
    );
    bare.push((await runNode('-e', [''])).wallMs);
    help.push((await runNode(CLI, ['--help'])).wallMs);
  }
  const changed = runs.flatMap((r) => r.split.assets.filter((a) => a.changed).map((a) => a.asset));
  if (changed.length > 0) ctx.log(`[${S}] WARNING: a no-op run changed ${[...new Set(changed)].join(', ')}`);
  ctx.log(`[${S}] ${runs.map((r) => `${seconds(r.child.wallMs).toFixed(2)} s`).join(', ')}`);

  const part = (name: string, pick: (p: PhaseSplit) => number, note?: string) =>
    addFigure(
      ctx,
      S,
      name,
      's',
      runs.map((r) => seconds(pick(r.split))),
      note,
    );
  part('materialize, nothing new: wall', (p) => p.wallMs, `${history.days} days, ${history.files} files, S3`);
  part('part: list source (S3)', (p) => p.listMs);
  part('part: inventory diff', (p) => p.inventoryMs);
  part('part: other assets (up to date)', (p) => p.eventsMs + p.aggregatesMs + p.insightsMs);
  part('part: ledger/other', (p) => p.otherMs, 'node start, imports, DuckDB open+setup, ledger, CHECKPOINT');
  addFigure(ctx, S, 'ref: bare `node -e ""`', 's', bare.map(seconds));
  addFigure(ctx, S, 'ref: `billing-pipeline --help` (imports)', 's', help.map(seconds));

  const wall = median(runs.map((r) => seconds(r.child.wallMs)));
  ctx.goals.push(
    judge(
      `no-op re-run < 1 s at ${history.days} days (${history.files} files)`,
      wall,
      1,
      's',
      false,
      `of which node start ${median(bare.map(seconds)).toFixed(2)} s, CLI imports ~${(median(help.map(seconds)) - median(bare.map(seconds))).toFixed(2)} s`,
    ),
  );
  ctx.details.rerun = {
    days: history.days,
    files: history.files,
    runs: runs.map((r) => stripAssets(r.split)),
    bareNodeMs: bare,
    helpMs: help,
  };
}

const stripAssets = ({ assets: _assets, ...rest }: PhaseSplit) => rest;
