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
  /** A regressor's served value (a classifier's: its label's probability). */
  score: number | null;
  status: PredictionStatus;
  feedbackLabel: string | null;
  feedbackValue: number | null;
}

/**
 * What drift reads of a served row, as a tuple (no object per row: a million of them is
 * a measurable share of a drift pass): ts, version, input JSON, label (null for errors and
 * regressors), score (a regressor's predicted value, a classifier's label probability; null
 * for errors).
 */
export type ServedInput = [
  ts: number,
  version: string,
  input: string,
  label: string | null,
  score: number | null,
];

/**
 * Served rows of a range in ts order (ties in any order), at most `limit` (null: all).
 * One range of the (model, ts) index: no sort, no transaction held between calls.
 */
export interface ServedRowSource {
  servedRows(range: LogRange, limit: number | null): Promise<ServedRow[]>;
  servedInputs(range: LogRange, limit: number | null): Promise<ServedInput[]>;
  /** How many served rows the range holds (a replay's progress total). */
  servedCount(range: LogRange): Promise<number>;
}

/**
 * Every served row of `range`, a page at a time, each row once: memory holds one page
 * whatever the range, and the caller may yield to the event loop between pages. A page
 * ends before its last millisecond (the next one starts there), so rows sharing a ts are
 * never split across pages; a millisecond holding a whole page is read on its own.
 */
export function readServedRows(
  source: ServedRowSource,
  range: LogRange,
  pageRows: number,
): AsyncGenerator<ServedRow[]> {
  return readByTs(
    (r, limit) => source.servedRows(r, limit),
    (row) => row.ts,
    range,
    pageRows,
  );
}

/** readServedRows for drift: the lean tuples. */
export function readServedInputs(
  source: ServedRowSource,
  range: LogRange,
  pageRows: number,
): AsyncGenerator<ServedInput[]> {
  return readByTs(
    (r, limit) => source.servedInputs(r, limit),
    (row) => row[0],
    range,
    pageRows,
  );
}

async function* readByTs<T>(
  fetch: (range: LogRange, limit: number | null) => Promise<T[]>,
  tsOf: (row: T) => number,
  range: LogRange,
  pageRows: number,
): AsyncGenerator<T[]> {
  let since = range.since;
  for (;;) {
    const rows = await fetch({ ...range, since }, pageRows);
    if (rows.length < pageRows) {
      if (rows.length > 0) yield rows;
      return;
    }
    const lastTs = tsOf(rows[rows.length - 1] as T);
    const firstOfLast = rows.findIndex((row) => tsOf(row) === lastTs);
    if (firstOfLast > 0) {
      yield rows.slice(0, firstOfLast);
      since = lastTs;
    } else {
      yield await fetch({ ...range, since: lastTs, until: lastTs + 1 }, null);
      since = lastTs + 1;
    }
  }
}
