import {
  type ColumnSource,
  fileWriter,
  ParquetWriter,
  schemaFromColumnData,
} from 'hyparquet-writer';
import type { PredictionWithFeedback } from '../db/log-archive.js';

/** Rows per Parquet row group: one group's columns are all the export holds in memory. */
export const PARQUET_ROW_GROUP = 50_000;

type Column = Omit<ColumnSource, 'data'> & {
  value: (row: PredictionWithFeedback) => unknown;
};

const parseJson = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));

/**
 * The export's columns as typed Parquet columns: the CSV's, with `time` a millisecond
 * TIMESTAMP, `ts` an INT64, input and output JSON (DuckDB and Arrow read them as JSON)
 * and `cached` a BOOLEAN.
 */
const COLUMNS: Column[] = [
  { name: 'id', type: 'STRING', nullable: false, value: (r) => r.id },
  { name: 'time', type: 'TIMESTAMP', nullable: false, value: (r) => new Date(r.ts) },
  { name: 'ts', type: 'INT64', nullable: false, value: (r) => BigInt(r.ts) },
  { name: 'model', type: 'STRING', nullable: false, value: (r) => r.model },
  { name: 'version', type: 'STRING', nullable: false, value: (r) => r.version },
  { name: 'route', type: 'STRING', nullable: false, value: (r) => r.route },
  { name: 'user_hash', type: 'STRING', nullable: true, value: (r) => r.userHash },
  { name: 'request_id', type: 'STRING', nullable: false, value: (r) => r.requestId },
  { name: 'input', type: 'JSON', nullable: false, value: (r) => parseJson(r.input) },
  { name: 'output', type: 'JSON', nullable: true, value: (r) => parseJson(r.output) },
  { name: 'label', type: 'STRING', nullable: true, value: (r) => r.label },
  { name: 'score', type: 'DOUBLE', nullable: true, value: (r) => r.score },
  { name: 'latency_us', type: 'INT64', nullable: false, value: (r) => BigInt(r.latencyUs) },
  { name: 'status', type: 'STRING', nullable: false, value: (r) => r.status },
  { name: 'error', type: 'STRING', nullable: true, value: (r) => r.error },
  { name: 'shadow_of', type: 'STRING', nullable: true, value: (r) => r.shadowOf },
  { name: 'cached', type: 'BOOLEAN', nullable: false, value: (r) => Boolean(r.cached) },
  { name: 'feedback_label', type: 'STRING', nullable: true, value: (r) => r.feedbackLabel },
  {
    name: 'feedback_ts',
    type: 'INT64',
    nullable: true,
    value: (r) => (r.feedbackTs === null ? null : BigInt(r.feedbackTs)),
  },
  { name: 'feedback_value', type: 'DOUBLE', nullable: true, value: (r) => r.feedbackValue },
];

export const PARQUET_COLUMNS = COLUMNS.map((c) => c.name);

const columnData = (rows: readonly PredictionWithFeedback[]): ColumnSource[] =>
  COLUMNS.map(({ value, ...column }) => ({ ...column, data: rows.map(value) }));

/** A Parquet file written one row group at a time (hyparquet-writer, snappy). */
export function createParquetExport(path: string) {
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: schemaFromColumnData({ columnData: columnData([]) }),
  });
  return {
    async writeRowGroup(rows: readonly PredictionWithFeedback[]): Promise<void> {
      if (rows.length > 0)
        await writer.write({ columnData: columnData(rows), rowGroupSize: rows.length });
    },
    finish: () => writer.finish(),
  };
}
