/**
 * The rate bound of a replay (MODELGATE_REPLAY_MAX_ROWS_PER_S), as a token bucket: rows
 * earn the right to start at the bound, and the bucket holds at most `burstRows` of them
 * (one batch). It starts empty when the job starts. So
 *  - rows started by time t ≤ bound × (t − start), and
 *  - rows started in ANY window of w seconds ≤ bound × w + burstRows:
 * a job that stalls (a slow page read, a PostgreSQL hiccup, a busy event loop) resumes
 * with at most one batch ahead, then keeps to the bound, instead of repaying the stall at
 * full speed (an average since the start allowed a 5 s stall to become 10,000 rows in
 * 0.1 s at a bound of 2,000/s).
 */
export interface ReplayPace {
  /** When a batch of `rows`, ready at `now`, may start; the rows are taken from the bucket. */
  reserve(rows: number, now: number): number;
}

export function createReplayPace(
  startedAt: number,
  maxRowsPerS: number,
  burstRows: number,
): ReplayPace {
  const msFor = (rows: number) => (rows / maxRowsPerS) * 1000;
  /** The bucket as a time: it holds min(burstRows, bound × (t − emptyAt)) rows at t. */
  let emptyAt = startedAt;
  return {
    reserve(rows, now) {
      const startAt = Math.max(now, emptyAt + msFor(rows));
      // A full bucket at startAt counts as filling from startAt − burst: what it held
      // beyond the burst is lost, the debt a stall would otherwise build up.
      emptyAt = Math.max(emptyAt, startAt - msFor(burstRows)) + msFor(rows);
      return startAt;
    },
  };
}

/** Largest replay batch: one ONNX call of this many rows holds a core for well under 1 ms. */
export const MAX_REPLAY_BATCH_ROWS = 64;

/**
 * Rows per batch: about 20 batches a second at the bound, so the pace is smooth and a
 * cancel lands within ~50 ms, between 1 and MAX_REPLAY_BATCH_ROWS.
 */
export function replayBatchRows(maxRowsPerS: number): number {
  return Math.max(1, Math.min(MAX_REPLAY_BATCH_ROWS, Math.floor(maxRowsPerS / 20)));
}
