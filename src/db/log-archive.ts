import type { PredictionRecord } from './predictions.js';

/**
 * Getting the prediction log out (npm run export) and ageing it out (log retention),
 * in either storage. Pages are read by keyset on (ts, id), so each is one index range
 * and a reader holds no transaction or cursor open between pages.
 */

/** A logged prediction with its feedback, if any. */
export interface PredictionWithFeedback extends PredictionRecord {
  feedbackLabel: string | null;
  feedbackValue: number | null;
  feedbackTs: number | null;
}

export interface LogRange {
  model: string;
  /** ms since epoch, inclusive. */
  since: number;
  /** ms since epoch, exclusive. */
  until: number;
}

/** Where the previous page ended: its last row's (ts, id). */
export interface LogCursor {
  ts: number;
  id: string;
}

/** The line formats of `npm run export` (src/export/format.ts writes them in JS). */
export type ExportFormat = 'csv' | 'jsonl';

/** Export lines of one page, and where the page ended. */
export interface ExportPage {
  text: string;
  rows: number;
  last: LogCursor | null;
}

export interface LogArchive {
  /** Predictions in the range (an index count: for progress, not for statistics). */
  count(range: LogRange): Promise<number>;
  /** Up to `limit` predictions of the range after `after`, in (ts, id) order. */
  page(range: LogRange, after: LogCursor | null, limit: number): Promise<PredictionWithFeedback[]>;
  /**
   * Deletes up to `limit` of the oldest predictions older than `before` (any model),
   * their feedback and, for SQLite, the latency rollup minutes before it, in one
   * transaction. Returns the most rows it deleted from one table (or rollup series):
   * fewer than `limit` means nothing older than `before` is left.
   */
  deleteBefore(before: number, limit: number): Promise<number>;
  /**
   * Like `page`, but the rows already formatted as export lines, byte for byte what
   * src/export/format.ts writes. Optional: a storage that can format in its own engine
   * (SQLite, in C) saves the export a JS object and a dozen strings per row.
   */
  exportPage?(
    range: LogRange,
    format: ExportFormat,
    after: LogCursor | null,
    limit: number,
  ): Promise<ExportPage>;
}

/** Every page of `range`, one at a time: memory holds one page whatever the range. */
export async function* readLog(
  archive: LogArchive,
  range: LogRange,
  pageRows: number,
): AsyncGenerator<PredictionWithFeedback[]> {
  let after: LogCursor | null = null;
  for (;;) {
    const rows = await archive.page(range, after, pageRows);
    if (rows.length > 0) yield rows;
    if (rows.length < pageRows) return;
    const last = rows[rows.length - 1] as PredictionWithFeedback;
    after = { ts: last.ts, id: last.id };
  }
}
