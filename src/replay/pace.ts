/**
 * The rate bound of a replay (MODELGATE_REPLAY_MAX_ROWS_PER_S), as arithmetic: a batch may
 * start only once the time since the job started covers every row done so far plus the
 * batch at the bound. So at any moment rows done ≤ bound × time elapsed, whatever the
 * batch size, and a job that fell behind (a slow page read) does not burst to catch up
 * by more than one batch.
 */
export function batchStartsAt(
  startedAt: number,
  rowsBefore: number,
  batchRows: number,
  maxRowsPerS: number,
): number {
  return startedAt + ((rowsBefore + batchRows) / maxRowsPerS) * 1000;
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
