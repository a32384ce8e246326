import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  duckdb: string;
  duckdbNodeApi: string;
  platform: string;
  /** 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverageAtStart: number;
}

async function cpuModel(): Promise<string> {
  // /proc/cpuinfo is what the brief asks for; os.cpus() is the fallback off Linux.
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const match = /^model name\s*:\s*(.+)$/m.exec(text);
  return match?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

async function duckdbVersion(): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll('SELECT version() AS v');
    connection.closeSync();
    return String(reader.getRowObjectsJS()[0]?.v ?? 'unknown');
  } finally {
    instance.closeSync();
  }
}

async function nodeApiVersion(): Promise<string> {
  try {
    const url = new URL('../../node_modules/@duckdb/node-api/package.json', import.meta.url);
    return (JSON.parse(await readFile(url, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpuModel: await cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    duckdb: await duckdbVersion(),
    duckdbNodeApi: await nodeApiVersion(),
    platform: `${process.platform}-${process.arch}`,
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}
