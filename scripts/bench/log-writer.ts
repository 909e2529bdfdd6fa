import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import type { LogWriterPlacement } from '../../src/config.js';
import type { PredictionRecord } from '../../src/db/predictions.js';
import { openSqliteStorage } from '../../src/db/sqlite/storage.js';
import { threadCpuSeconds } from './servers.js';

export interface LogWriterResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Rows per second of this process's CPU time: what the writer costs, whatever else runs. */
  rowsPerCpuSecond: number;
  /** CPU of the main thread alone per row: what the writer costs the event loop. */
  mainThreadCpuUsPerRow: number;
  writer: LogWriterPlacement;
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

const countRows = (path: string): number => {
  const db = new Database(path, { readonly: true });
  const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
  db.close();
  return n;
};

/**
 * Opens a log in `path` and commits `warmUp` through it first, so that starting the writer's
 * thread (with tsx's loader in it, under `npm run bench`) is not timed.
 */
async function openWarmLog(path: string, writer: LogWriterPlacement, warmUp: PredictionRecord) {
  const options = { flushRows: 500, flushMs: 10, maxQueue: 100_000 };
  const storage = openSqliteStorage(path, options, { logWriter: writer });
  storage.predictionLog.append([warmUp]);
  await storage.predictionLog.flush();
  return { storage, log: storage.predictionLog, maxQueue: options.maxQueue };
}

/**
 * Appends one row at a time, as the gateway does, letting the event loop turn
 * after each so the log's own flush (500 rows or 10 ms, via setImmediate) fires
 * as it would under load; then flush() commits the tail. Rows are built first:
 * only the writer (and ~3 µs per row of event-loop turns) is timed. Then the same
 * rows in a tight loop that waits for the writer only when the 100,000-row queue is full.
 * `writer` as MODELGATE_LOG_WRITER: on its thread (the default), the main thread's share
 * of the CPU is what requests wait behind.
 */
export async function benchLogWriter(
  count = 200_000,
  writer: LogWriterPlacement = 'thread',
): Promise<LogWriterResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-log-'));
  try {
    const [warmUp, ...rows] = realisticRows(count + 1) as [PredictionRecord, ...PredictionRecord[]];
    const { storage, log, maxQueue } = await openWarmLog(join(dir, 'log.db'), writer, warmUp);
    let maxQueueDepth = 0;
    const cpu = process.cpuUsage();
    const mainCpu = threadCpuSeconds() ?? 0;
    const started = process.hrtime.bigint();
    for (const row of rows) {
      // The thread writer commits behind the loop: past the bound, wait as a client would.
      if (log.queueDepth >= maxQueue) await log.flush();
      log.append([row]);
      if (log.queueDepth > maxQueueDepth) maxQueueDepth = log.queueDepth;
      await nextTurn();
    }
    await log.flush();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const mainCpuSeconds = (threadCpuSeconds() ?? Number.NaN) - mainCpu;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const rowsWritten = log.rowsWritten - 1;
    await storage.close();

    const tight = await openWarmLog(join(dir, 'tight.db'), writer, warmUp);
    const tightLog = tight.log;
    const tightStarted = process.hrtime.bigint();
    for (const row of rows) {
      // A full queue answers 503 rather than growing: wait for the writer as the gateway would.
      if (tightLog.queueDepth >= maxQueue) await tightLog.flush();
      tightLog.append([row]);
    }
    await tightLog.flush();
    const tightSeconds = Number(process.hrtime.bigint() - tightStarted) / 1e9;
    const tightRows = tightLog.rowsWritten - 1;
    await tight.storage.close();

    return {
      writer,
      rows: rowsWritten,
      seconds,
      rowsPerSecond: rowsWritten / seconds,
      rowsPerCpuSecond: rowsWritten / cpuSeconds,
      mainThreadCpuUsPerRow: (mainCpuSeconds * 1e6) / rowsWritten,
      maxQueueDepth,
      rowsInFile: countRows(join(dir, 'log.db')) - 1, // less the warm-up row
      tightLoopRowsPerSecond: tightRows / tightSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
