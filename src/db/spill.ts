import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { PredictionRecord } from './predictions.js';

/**
 * Spill files: prediction rows the log could not write before the process had to
 * stop (database down, disk full), kept as JSON lines and written into the log at
 * the next start. Only complete files carry this name: each is written under a
 * temporary name, synced, then renamed.
 */
const SPILL_FILE = /^predictions-spill-.*\.jsonl$/;

/** Writes `rows` to a new spill file in `dir` and returns its path. */
export function writeSpillFile(dir: string, rows: readonly PredictionRecord[]): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replaceAll(':', '-');
  const name = `predictions-spill-${stamp}-${process.pid}.jsonl`;
  const path = join(dir, name);
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  try {
    let lines: string[] = [];
    for (const row of rows) {
      lines.push(JSON.stringify(row));
      // A few thousand lines per write: bounded memory for a queue of millions.
      if (lines.length === 4096) {
        writeSync(fd, `${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  return path;
}

/** Complete spill files in `dir`, oldest first (the name starts with its time). */
export function spillFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => SPILL_FILE.test(name))
    .sort()
    .map((name) => join(dir, name));
}

export function readSpillFile(path: string): PredictionRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as PredictionRecord);
}

/**
 * Writes every spill file in `dir` into the log with `replay` and deletes each once
 * written. Safe to repeat: the log skips ids it already holds. Throws (leaving the
 * file) if a write fails.
 */
export async function replaySpillFiles(
  dir: string,
  replay: (rows: readonly PredictionRecord[]) => Promise<void>,
): Promise<{ files: number; rows: number }> {
  let rows = 0;
  const files = spillFilesIn(dir);
  for (const file of files) {
    let records: PredictionRecord[];
    try {
      records = readSpillFile(file);
    } catch (error) {
      // Replicas sharing the directory: another one starting at the same time took it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    await replay(records);
    rows += records.length;
    rmSync(file, { force: true });
  }
  return { files: files.length, rows };
}
