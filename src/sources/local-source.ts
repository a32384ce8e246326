import { randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent, Stats } from 'node:fs';
import {
  copyFile,
  mkdir,
  open as openFile,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { inspectKey } from './partition-key.js';
import { type ListOptions, type Source, SourceError, type SourceFile } from './source.js';

export interface LocalSourceOptions {
  /** Accept `…-YYYY-MM-DD.csv` names outside Hive folders (see `classifyKey`). Defaults to true. */
  datedNames?: boolean;
}

/** Billing files in a folder on disk (a download of the bucket, or files dropped by hand). */
export class LocalSource implements Source {
  readonly uri: string;
  readonly root: string;
  private readonly datedNames: boolean;

  constructor(root: string, options: LocalSourceOptions = {}) {
    this.root = path.resolve(root);
    this.uri = this.root;
    this.datedNames = options.datedNames ?? true;
  }

  async *list(options: ListOptions = {}): AsyncIterable<SourceFile> {
    const signal = options.signal;
    await this.assertRoot();
    const found: { key: string; absolute: string; partition: string; gzip: boolean }[] = [];
    const skipped: { key: string; absolute: string; reason: string }[] = [];
    const visited = new Set<string>();
    // `real` is the folder's resolved path: a plain entry of a resolved folder is resolved too, so
    // realpath (a syscall per folder) is only needed where a symlink is followed.
    const walk = async (dir: string, real: string, prefix: string): Promise<void> => {
      signal?.throwIfAborted();
      // Symlinked folders are followed, so a link back up the tree must not loop forever.
      if (visited.has(real)) return;
      visited.add(real);
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isCode(error, 'ENOENT')) return; // removed while we were walking
        throw this.wrap(error, `cannot read folder ${dir}`);
      }
      const folders: Promise<void>[] = [];
      for (const entry of entries) {
        const absolute = path.join(dir, entry.name);
        const key = prefix + entry.name;
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        let target = path.join(real, entry.name);
        if (entry.isSymbolicLink()) {
          const stats = await statOrNull(absolute);
          isDir = stats?.isDirectory() ?? false;
          isFile = stats?.isFile() ?? false;
          if (isDir) target = await realpath(absolute);
        }
        if (isDir) {
          // Sibling folders are read concurrently (a year of day folders is hundreds of readdirs);
          // the keys are sorted below, so the order they are found in does not matter.
          folders.push(walk(absolute, target, `${key}/`));
        } else if (isFile) {
          const verdict = inspectKey(key, { datedNames: this.datedNames });
          if (verdict?.kind === 'data') {
            found.push({ key, absolute, partition: verdict.partition, gzip: verdict.gzip });
          } else if (verdict?.kind === 'skipped') {
            skipped.push({ key, absolute, reason: verdict.reason });
          }
        }
      }
      await Promise.all(folders);
    };
    await walk(this.root, await realpath(this.root), '');
    found.sort((a, b) => compareKeys(a.key, b.key));
    if (options.onSkipped) {
      for (const file of skipped.sort((a, b) => compareKeys(a.key, b.key))) {
        const stats = await bigStatOrNull(file.absolute);
        if (!stats?.isFile()) continue;
        options.onSkipped({
          key: file.key,
          size: Number(stats.size),
          version: localVersion(stats),
          reason: file.reason,
        });
      }
    }

    // Stat lazily, a batch at a time, so the version reflects the file close to when it is read
    // while 1,000s of files do not cost 1,000s of sequential round trips to the thread pool.
    for (let start = 0; start < found.length; start += STAT_BATCH) {
      signal?.throwIfAborted();
      const batch = found.slice(start, start + STAT_BATCH);
      const stats = await Promise.all(batch.map((file) => bigStatOrNull(file.absolute)));
      for (const [i, file] of batch.entries()) {
        const stat = stats[i];
        if (!stat?.isFile()) continue; // deleted between the walk and now
        yield {
          key: file.key,
          size: Number(stat.size),
          version: localVersion(stat),
          partition: file.partition,
          gzip: file.gzip,
        };
      }
    }
  }

  async open(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    const file = this.resolveKey(key);
    let handle: Awaited<ReturnType<typeof openFile>>;
    try {
      handle = await openFile(file, 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) {
        throw new SourceError(`file "${key}" does not exist in ${this.root}`, {
          cause: error,
          transient: false,
        });
      }
      throw this.wrap(error, `cannot open ${file}`);
    }
    const stream = handle.createReadStream({ autoClose: true });
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.writeAtomically(key, (temp) => writeFile(temp, body));
  }

  async putFile(key: string, localPath: string): Promise<void> {
    await this.writeAtomically(key, (temp) => copyFile(localPath, temp));
  }

  async close(): Promise<void> {}

  private async assertRoot(): Promise<void> {
    let stats: Stats;
    try {
      stats = await stat(this.root);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) {
        throw new SourceError(
          `source folder "${this.root}" does not exist (check BILLING_SOURCE or create the folder)`,
          { cause: error, transient: false },
        );
      }
      throw this.wrap(error, `cannot read source folder "${this.root}"`);
    }
    if (!stats.isDirectory()) {
      throw new SourceError(`source "${this.root}" is a file, not a folder (check BILLING_SOURCE)`, {
        transient: false,
      });
    }
  }

  /**
   * Readers (and `list`) must never see a half-written file, so the data goes to a dot-file first,
   * which `classifyKey` ignores, and is renamed into place.
   */
  private async writeAtomically(key: string, write: (temp: string) => Promise<void>): Promise<void> {
    const target = this.resolveKey(key);
    const temp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await write(temp);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw this.wrap(error, `cannot write "${key}" in ${this.root}`);
    }
  }

  private resolveKey(key: string): string {
    const parts = key.split('/');
    if (key === '' || path.isAbsolute(key) || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new SourceError(`invalid key "${key}": expected a relative path like "a/b.csv"`, {
        transient: false,
      });
    }
    return path.join(this.root, ...parts);
  }

  private wrap(error: unknown, message: string): SourceError {
    if (error instanceof SourceError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    // Running out of descriptors or a busy file clears up on its own; anything else needs a human.
    const transient = ['EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EIO'].some((code) => isCode(error, code));
    return new SourceError(`${message}: ${detail}`, { cause: error, transient });
  }
}

/** Files stat'ed at once while listing: enough to keep libuv's 4 threads busy, few open requests. */
const STAT_BATCH = 64;

/** Orders keys by code point, which matches S3's UTF-8 byte order for the ASCII keys we produce. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `mtime-size-ctime-inode`. mtime and size alone miss a same-size rewrite whose mtime was restored
 * (`cp -p`, `rsync -t`, `touch -r`); the kernel sets ctime on every write or rename and it cannot be
 * set back, and a file moved into place has a new inode. A chmod also changes ctime: the file is
 * then reloaded, which replaces its rows with the same rows.
 */
export function localVersion(stats: BigIntStats): string {
  return `${stats.mtimeMs}-${stats.size}-${stats.ctimeNs}-${stats.ino}`;
}

async function bigStatOrNull(file: string): Promise<BigIntStats | null> {
  try {
    return await stat(file, { bigint: true });
  } catch {
    return null;
  }
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
