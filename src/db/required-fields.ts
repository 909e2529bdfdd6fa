import type { PredictionRecord } from './predictions.js';

/** The prediction columns declared NOT NULL in both schemas (cached has a default). */
const REQUIRED: ReadonlyArray<keyof PredictionRecord> = [
  'id',
  'ts',
  'model',
  'version',
  'route',
  'requestId',
  'input',
  'latencyUs',
  'status',
];

/**
 * Whether the log's table would refuse `row` as it is: a damaged or hand-edited spill line.
 * PostgreSQL fails the whole statement on such a row (SQLite's INSERT OR IGNORE skips it),
 * so it is set aside before the insert instead of stalling the log on every retry.
 */
export function lacksRequiredField(row: PredictionRecord): boolean {
  for (const field of REQUIRED) {
    if (row[field] === null || row[field] === undefined) return true;
  }
  return false;
}
