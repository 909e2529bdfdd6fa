import type { LogRange } from './log-archive.js';
import type { PredictionStatus } from './predictions.js';

/** A served (non-shadow) prediction as drift and replay read it, with its feedback if any. */
export interface ServedRow {
  id: string;
  ts: number;
  version: string;
  /** The logged input: a JSON object of feature → number. */
  input: string;
  label: string | null;
  status: PredictionStatus;
  feedbackLabel: string | null;
  feedbackValue: number | null;
}

export interface ServedRowSource {
  /**
   * Served rows of the range in ts order (ties in any order), at most `limit` (null: all).
   * One range of the (model, ts) index: no sort, no transaction held between calls.
   */
  servedRows(range: LogRange, limit: number | null): Promise<ServedRow[]>;
}

/**
 * Every served row of `range`, a page at a time, each row once: memory holds one page
 * whatever the range, and the caller may yield to the event loop between pages. A page
 * ends before its last millisecond (the next one starts there), so rows sharing a ts are
 * never split across pages; a millisecond holding a whole page is read on its own.
 */
export async function* readServedRows(
  source: ServedRowSource,
  range: LogRange,
  pageRows: number,
): AsyncGenerator<ServedRow[]> {
  let since = range.since;
  for (;;) {
    const rows = await source.servedRows({ ...range, since }, pageRows);
    if (rows.length < pageRows) {
      if (rows.length > 0) yield rows;
      return;
    }
    const lastTs = (rows[rows.length - 1] as ServedRow).ts;
    const firstOfLast = rows.findIndex((row) => row.ts === lastTs);
    if (firstOfLast > 0) {
      yield rows.slice(0, firstOfLast);
      since = lastTs;
    } else {
      yield await source.servedRows({ ...range, since: lastTs, until: lastTs + 1 }, null);
      since = lastTs + 1;
    }
  }
}
