import { createHash } from 'node:crypto';
import type { SourceFile } from '../sources/source.js';
import { AutomationStore, type SensorFileRecord } from './automation-store.js';
import { addDays, dayOf } from './days.js';
import type { SensorDefinition, SensorEvaluation } from './sensor.js';
import type { FileLister } from './source-listers.js';

/**
 * The sensor's cursor: a summary of the file snapshot it last saw (kept whole in table
 * `sensor_files`), not just "the latest date", so late files in old partitions and re-uploads
 * with a new ETag are changes too.
 */
export interface SourceCursor {
  /** Change sets seen so far; part of every run key, so a change that reverts an earlier one still runs. */
  seq: number;
  files: number;
  partitions: number;
  latest_partition: string | null;
  /** Order-independent hash of every key and version: equal digests, equal snapshots. */
  digest: string;
  /** When the last full listing ran (ISO); recent-only ticks happen in between. */
  full_listed_at: string | null;
}

export interface SourceSensorOptions {
  name: string;
  kind: string;
  lister: FileLister;
  store: AutomationStore;
  intervalSeconds: number;
  /** Seconds between full listings when the lister can list folders (default 900). */
  reconcileSeconds?: number;
  /** Latest known partitions re-listed on every recent tick (default 2). */
  recentPartitions?: number;
  /** Asset selection of the runs it requests (default: everything). */
  selection?: readonly string[];
}

interface Entry {
  version: string;
  partition: string;
}

interface Change {
  added: SensorFileRecord[];
  modified: (SensorFileRecord & { previous: string })[];
  removed: string[];
}

const HIVE_FOLDER = /^(.*?(?:^|\/)year=(\d{4})\/month=(\d{1,2})\/day=(\d{1,2})\/)/;
const MASK = (1n << 64n) - 1n;

function entryHash(key: string, version: string): bigint {
  return BigInt(
    `0x${createHash('sha1').update(key).update('\0').update(version).digest('hex').slice(0, 16)}`,
  );
}

/** The partition folder of a Hive key, e.g. `region=eu/year=2025/month=4/day=23/`. */
export function partitionFolder(key: string): string | null {
  let best: string | null = null;
  // The deepest year=/month=/day= run decides, as in classifyKey.
  for (let i = key.indexOf('year='); i >= 0; i = key.indexOf('year=', i + 1)) {
    if (i > 0 && key[i - 1] !== '/') continue;
    const match = HIVE_FOLDER.exec(key.slice(i));
    if (match?.[1]) best = key.slice(0, i) + match[1];
  }
  return best;
}

/**
 * The same folder for another day, in the template's padding style (`month=4` or `month=04`).
 * `month=11/day=23` says nothing about padding; zero-padded is the common Hive style then.
 */
export function folderForDay(template: string, day: string): string {
  const [y = '', m = '', d = ''] = day.split('-');
  return template.replace(
    /(^|\/)year=\d{4}\/month=(\d{1,2})\/day=(\d{1,2})\/$/,
    (_all, lead: string, month: string, dayOfMonth: string) => {
      const padded =
        month.startsWith('0') ||
        dayOfMonth.startsWith('0') ||
        (month.length === 2 && dayOfMonth.length === 2);
      const style = (value: string) => (padded ? value : String(Number(value)));
      return `${lead}year=${y}/month=${style(m)}/day=${style(d)}/`;
    },
  );
}

export function parseSourceCursor(cursor: string | null): SourceCursor | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(cursor) as SourceCursor;
    return typeof parsed.seq === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Watches a source for new or changed files and requests a "load what is new" run with a run key
 * derived from the change. Listing stays bounded on big buckets: a recent tick lists only the
 * folders of the latest partitions (plus the next day's and today's, guessed from the layout);
 * a full listing every `reconcileSeconds` catches late files in old partitions and deletions.
 */
export class SourceSensor implements SensorDefinition {
  readonly name: string;
  readonly kind: string;
  readonly description: string;
  readonly intervalSeconds: number;
  private snapshot: Map<string, Entry> | null = null;
  private digest = 0n;
  /** Partition → folders of the snapshot, rebuilt only when the snapshot changes. */
  private index: Map<string, Set<string>> | null = null;
  /** What kind of listing the last evaluation did; for logs and tests. */
  lastListing: 'full' | 'recent' | null = null;

  constructor(private readonly options: SourceSensorOptions) {
    this.name = options.name;
    this.kind = options.kind;
    this.intervalSeconds = options.intervalSeconds;
    this.description = `new or changed billing files in ${options.lister.uri}`;
  }

  async evaluate({ cursor, now, signal }: { cursor: string | null; now: Date; signal: AbortSignal }) {
    const previous = parseSourceCursor(cursor);
    // The first tick of a process reconciles: anything may have changed while it was down.
    const firstInProcess = this.snapshot === null;
    const snapshot = await this.load(previous);
    const reconcileMs = (this.options.reconcileSeconds ?? 900) * 1000;
    const lastFull = previous?.full_listed_at ? Date.parse(previous.full_listed_at) : null;
    const full =
      firstInProcess ||
      snapshot.size === 0 ||
      !this.options.lister.listFolders ||
      lastFull === null ||
      now.getTime() - lastFull >= reconcileMs;

    let listing: SourceFile[];
    let folders: string[] = [];
    if (full) {
      listing = await this.options.lister.listAll(signal);
    } else {
      folders = this.recentFolders(snapshot, now);
      listing = (await this.options.lister.listFolders?.(folders, signal)) ?? [];
    }
    this.lastListing = full ? 'full' : 'recent';
    const inScope = full ? () => true : (key: string) => folders.some((f) => key.startsWith(f));
    const change = diff(snapshot, listing, inScope);

    let digest = this.digest;
    for (const f of change.added) digest ^= entryHash(f.key, f.version);
    for (const f of change.modified) digest ^= entryHash(f.key, f.previous) ^ entryHash(f.key, f.version);
    for (const key of change.removed) digest ^= entryHash(key, snapshot.get(key)?.version ?? '');
    digest &= MASK;

    const hasRows = change.added.length + change.modified.length + change.removed.length > 0;
    const next = hasRows ? applyChange(snapshot, change) : snapshot;
    const nextIndex = hasRows ? indexFolders(next) : this.indexOf(snapshot);
    const changed = change.added.length + change.modified.length > 0;
    const seq = (previous?.seq ?? 0) + (changed ? 1 : 0);
    const known = this.indexOf(snapshot);
    const nextCursor: SourceCursor = {
      seq,
      files: next.size,
      partitions: nextIndex.size,
      latest_partition: [...nextIndex.keys()].sort().at(-1) ?? null,
      digest: digest.toString(16).padStart(16, '0'),
      full_listed_at: full ? now.toISOString() : (previous?.full_listed_at ?? null),
    };
    const newPartitions = new Set(change.added.map((f) => f.partition).filter((p) => !known.has(p)));
    const evaluation: SensorEvaluation = {
      cursor: JSON.stringify(nextCursor),
      runRequests: changed
        ? [
            {
              selection: this.options.selection,
              trigger: `sensor:${this.name}`,
              runKey: `${this.name}:${seq}:${changeHash(change)}`,
              tags: {
                sensor: this.name,
                new_files: String(change.added.length),
                changed_files: String(change.modified.length),
                new_partitions: [...newPartitions].sort().join(','),
              },
            },
          ]
        : [],
      skipReason: changed ? undefined : skipReason(change, full, folders.length, listing.length),
      persist:
        hasRows || previous === null
          ? async (tx) => {
              // No cursor means no snapshot: rows left by an earlier cursor must not linger.
              if (previous === null) await AutomationStore.clearSensorFiles(tx, this.name);
              await AutomationStore.applySensorFiles(tx, this.name, change);
            }
          : undefined,
      committed: () => {
        this.snapshot = next;
        this.digest = digest;
        this.index = nextIndex;
      },
    };
    return evaluation;
  }

  /** The in-memory snapshot, loaded once from `sensor_files` (empty when there is no cursor). */
  private async load(cursor: SourceCursor | null): Promise<Map<string, Entry>> {
    if (cursor === null) {
      this.snapshot = new Map();
      this.digest = 0n;
      this.index = null;
      return this.snapshot;
    }
    if (this.snapshot === null) {
      const files = await this.options.store.sensorFiles(this.name);
      this.snapshot = new Map(files.map((f) => [f.key, { version: f.version, partition: f.partition }]));
      this.digest = BigInt(`0x${cursor.digest || '0'}`);
    }
    return this.snapshot;
  }

  private indexOf(snapshot: Map<string, Entry>): Map<string, Set<string>> {
    if (this.index === null || snapshot !== this.snapshot) this.index = indexFolders(snapshot);
    return this.index;
  }

  /** Folders of the latest known partitions, and of the next day and today/yesterday by the same layout. */
  private recentFolders(snapshot: Map<string, Entry>, now: Date): string[] {
    const byPartition = this.indexOf(snapshot);
    const known = [...byPartition.keys()].sort();
    const latest = known.slice(-(this.options.recentPartitions ?? 2));
    const folders = new Set<string>();
    for (const day of latest) for (const folder of byPartition.get(day) ?? []) folders.add(folder);
    const newest = latest.at(-1);
    const templates = newest ? [...(byPartition.get(newest) ?? [])] : ['year=2000/month=01/day=01/'];
    const today = dayOf(now);
    const guesses = [addDays(today, -1), today];
    if (newest) guesses.push(addDays(newest, 1));
    for (const day of guesses) for (const template of templates) folders.add(folderForDay(template, day));
    return [...folders].sort();
  }
}

/** Partition → its folders (a partition may be split across folders, e.g. per region). */
function indexFolders(snapshot: Map<string, Entry>): Map<string, Set<string>> {
  const byPartition = new Map<string, Set<string>>();
  for (const [key, entry] of snapshot) {
    const set = byPartition.get(entry.partition) ?? new Set<string>();
    const folder = partitionFolder(key);
    if (folder) set.add(folder);
    byPartition.set(entry.partition, set);
  }
  return byPartition;
}

function diff(
  snapshot: Map<string, Entry>,
  listing: readonly SourceFile[],
  inScope: (key: string) => boolean,
): Change {
  const change: Change = { added: [], modified: [], removed: [] };
  const seen = new Set<string>();
  for (const file of listing) {
    if (seen.has(file.key)) continue;
    seen.add(file.key);
    const known = snapshot.get(file.key);
    const record = { key: file.key, version: file.version, partition: file.partition };
    if (!known) change.added.push(record);
    else if (known.version !== file.version) change.modified.push({ ...record, previous: known.version });
  }
  for (const key of snapshot.keys()) if (!seen.has(key) && inScope(key)) change.removed.push(key);
  return change;
}

function applyChange(snapshot: Map<string, Entry>, change: Change): Map<string, Entry> {
  const next = new Map(snapshot);
  for (const key of change.removed) next.delete(key);
  for (const f of [...change.added, ...change.modified])
    next.set(f.key, { version: f.version, partition: f.partition });
  return next;
}

function changeHash(change: Change): string {
  const lines = [
    ...change.added.map((f) => `${f.key}\0\0${f.version}`),
    ...change.modified.map((f) => `${f.key}\0${f.previous}\0${f.version}`),
  ].sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

function skipReason(change: Change, full: boolean, folders: number, listed: number): string {
  const listing = full
    ? `full listing, ${listed} file(s)`
    : `recent listing of ${folders} folder(s), ${listed} file(s)`;
  if (change.removed.length > 0) {
    return `${change.removed.length} file(s) no longer in the source; nothing new to load (loaded rows are kept) (${listing})`;
  }
  return `no new or changed files (${listing})`;
}
