import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { PredictionRecord } from '../../src/db/predictions.js';
import { openDatabase } from '../../src/db/sqlite/client.js';
import { createSqlitePredictionLog } from '../../src/db/sqlite/prediction-log.js';

export interface LogWriterResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Rows per second of this process's CPU time: what the writer costs, whatever else runs. */
  rowsPerCpuSecond: number;
  maxQueueDepth: number;
  rowsInFile: number;
  /** The same rows appended in a tight loop (no event-loop turns): flushes come from the queue bound. */
  tightLoopRowsPerSecond: number;
}

/** Rows shaped like the gateway's: uuidv7 ids, JSON input and output, a hashed user on half. */
export function realisticRows(count: number): PredictionRecord[] {
  const rows: PredictionRecord[] = [];
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const p = 0.5 + (i % 97) / 200;
    rows.push({
      id: uuidv7(),
      ts: start + Math.floor(i / 20),
      model: 'iris',
      version: i % 10 === 0 ? 'v2' : 'v1',
      route: i % 10 === 0 ? 'split' : 'live',
      userHash: i % 2 === 0 ? (i * 2654435761).toString(16).padStart(32, '0').slice(-32) : null,
      requestId: uuidv7(),
      input: JSON.stringify({
        sepal_length: 5.1 + (i % 7) / 10,
        sepal_width: 3.5,
        petal_length: 1.4 + (i % 5) / 10,
        petal_width: 0.2,
      }),
      output: JSON.stringify({ setosa: p, versicolor: (1 - p) * 0.9, virginica: (1 - p) * 0.1 }),
      label: 'setosa',
      score: p,
      latencyUs: 40 + (i % 300),
      status: 'ok',
      error: null,
      shadowOf: null,
    });
  }
  return rows;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Appends one row at a time, as the gateway does, letting the event loop turn
 * after each so the log's own flush (500 rows or 10 ms, via setImmediate) fires
 * as it would under load; then close() commits the tail. Rows are built first:
 * only the writer (and ~3 µs per row of event-loop turns) is timed. Then the same
 * rows in a tight loop that waits for the writer only when the 100,000-row queue is full.
 */
export async function benchLogWriter(count = 200_000): Promise<LogWriterResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-log-'));
  const db = openDatabase(join(dir, 'log.db'));
  const tight = openDatabase(join(dir, 'tight.db'));
  const options = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };
  try {
    const rows = realisticRows(count);
    const log = createSqlitePredictionLog(db.$client, options);
    let maxQueueDepth = 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (const row of rows) {
      log.append([row]);
      if (log.queueDepth > maxQueueDepth) maxQueueDepth = log.queueDepth;
      await nextTurn();
    }
    await log.close();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const counted = db.$client.prepare('SELECT count(*) AS n FROM predictions').get() as {
      n: number;
    };

    const tightLog = createSqlitePredictionLog(tight.$client, options);
    const tightStarted = process.hrtime.bigint();
    for (const row of rows) {
      // A full queue answers 503 rather than growing: wait for the writer as the gateway would.
      if (tightLog.queueDepth >= options.maxQueue) await tightLog.flush();
      tightLog.append([row]);
    }
    await tightLog.close();
    const tightSeconds = Number(process.hrtime.bigint() - tightStarted) / 1e9;

    return {
      rows: log.rowsWritten,
      seconds,
      rowsPerSecond: log.rowsWritten / seconds,
      rowsPerCpuSecond: log.rowsWritten / cpuSeconds,
      maxQueueDepth,
      rowsInFile: counted.n,
      tightLoopRowsPerSecond: tightLog.rowsWritten / tightSeconds,
    };
  } finally {
    db.$client.close();
    tight.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
