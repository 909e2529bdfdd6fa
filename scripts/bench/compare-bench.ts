import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCompareReport } from '../../src/compare/report.js';
import { openSqliteStorage } from '../../src/db/sqlite/storage.js';
import type { Storage } from '../../src/db/storage.js';
import { timeExport, timeExportAndRetention } from './archive-bench.js';
import { timeDrift } from './drift-bench.js';
import { realisticRows } from './log-writer.js';

export interface CompareBenchResult {
  rows: number;
  /** Lines for the report, e.g. "compare over 1,000,000 rows (SQLite): median 84 ms of 5". */
  lines: string[];
}

const CHUNK = 50_000;
const RUNS = 5;

/**
 * Fills a log with `rows` predictions of iris (v1 90 %, v2 10 %, feedback on 1 %) and
 * times the whole comparison over all of them, as GET /compare/iris computes it.
 */
export async function fillAndTimeCompare(
  storage: Storage,
  rows: number,
  label: string,
  /** Runs between filling and timing. */
  beforeTiming: () => Promise<void> = async () => {},
): Promise<string> {
  for (let done = 0; done < rows; done += CHUNK) {
    const chunk = realisticRows(Math.min(CHUNK, rows - done));
    storage.predictionLog.append(chunk);
    await storage.predictionLog.flush();
    for (let i = 0; i < chunk.length; i += 100) {
      const row = chunk[i];
      if (row)
        await storage.feedback.record(
          row.id,
          { label: i % 300 === 0 ? 'versicolor' : 'setosa' },
          row.ts,
        );
    }
  }
  await beforeTiming();
  const times: number[] = [];
  let versions = 0;
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    const report = await loadCompareReport(
      { queries: storage.queries, flushLog: () => storage.predictionLog.flush() },
      // The generated rows' timestamps run a little into the future.
      { model: 'iris', until: Date.now() + 3_600_000 },
      { source: 'local', weights: { v1: 90, v2: 10 }, pinned: false },
    );
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    versions = report.versions.reduce((sum, v) => sum + v.requests, 0);
  }
  if (versions !== rows) throw new Error(`compare counted ${versions} of ${rows} rows`);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(RUNS / 2)] as number;
  return `compare over ${rows.toLocaleString('en')} rows (${label}): median ${median.toFixed(0)} ms of ${RUNS} runs (min ${(times[0] as number).toFixed(0)} ms, max ${(times[RUNS - 1] as number).toFixed(0)} ms)`;
}

export async function compareBench(rows = 1_000_000): Promise<CompareBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-compare-'));
  const storage = openSqliteStorage(join(dir, 'compare.db'), {
    flushRows: CHUNK,
    flushMs: 1000,
    maxQueue: CHUNK * 2,
  });
  try {
    const compare = await fillAndTimeCompare(storage, rows, 'SQLite');
    const drift = await timeDrift(storage, 'SQLite', rows);
    return {
      rows,
      lines: [compare, drift, ...(await timeExportAndRetention(storage, 'SQLite'))],
    };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- --only export`: a SQLite log of `rows` predictions, exported as CSV and JSON lines. */
export async function exportBench(rows = 1_000_000): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-export-'));
  const storage = openSqliteStorage(join(dir, 'export.db'), {
    flushRows: CHUNK,
    flushMs: 1000,
    maxQueue: CHUNK * 2,
  });
  try {
    await fillAndTimeCompare(storage, rows, 'SQLite');
    return await timeExport(storage, 'SQLite');
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- --only drift`: a SQLite log of `rows` predictions, drift against itself. */
export async function driftBench(rows = 1_000_000): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-drift-'));
  const storage = openSqliteStorage(join(dir, 'drift.db'), {
    flushRows: CHUNK,
    flushMs: 1000,
    maxQueue: CHUNK * 2,
  });
  try {
    await fillAndTimeCompare(storage, rows, 'SQLite');
    return await timeDrift(storage, 'SQLite', rows);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
