import type { PredictionWithFeedback } from '../db/log-archive.js';

/**
 * One logged prediction with its feedback, as `npm run export` writes it: a CSV line
 * (input and output as JSON text cells) or a JSON line (input and output as objects).
 */
export type { ExportFormat } from '../db/log-archive.js';

export const CSV_COLUMNS = [
  'id',
  'time',
  'ts',
  'model',
  'version',
  'route',
  'user_hash',
  'request_id',
  'input',
  'output',
  'label',
  'score',
  'latency_us',
  'status',
  'error',
  'shadow_of',
  'cached',
  'feedback_label',
  'feedback_ts',
  'feedback_value',
] as const;

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\n`;

export function csvLine(row: PredictionWithFeedback): string {
  return `${[
    row.id,
    new Date(row.ts).toISOString(),
    row.ts,
    row.model,
    row.version,
    row.route,
    row.userHash,
    row.requestId,
    row.input,
    row.output,
    row.label,
    row.score,
    row.latencyUs,
    row.status,
    row.error,
    row.shadowOf,
    // SQLite hands back 0/1, PostgreSQL a boolean.
    row.cached ? 'true' : 'false',
    row.feedbackLabel,
    row.feedbackTs,
    row.feedbackValue,
  ]
    .map(csvCell)
    .join(',')}\n`;
}

const jsonString = (value: string | null): string =>
  value === null ? 'null' : JSON.stringify(value);
const jsonNumber = (value: number | null): string => (value === null ? 'null' : String(value));

/**
 * One JSON line. `input` and `output` are JSON texts the gateway wrote: embedded as they
 * are, never parsed and re-serialised; text fields go through JSON.stringify.
 */
export function jsonLine(row: PredictionWithFeedback): string {
  const feedback =
    row.feedbackTs === null
      ? 'null'
      : `{"label":${jsonString(row.feedbackLabel)},"value":${jsonNumber(row.feedbackValue)},"ts":${row.feedbackTs}}`;
  return `{"id":${jsonString(row.id)},"time":"${new Date(row.ts).toISOString()}","ts":${row.ts},"model":${jsonString(row.model)},"version":${jsonString(row.version)},"route":${jsonString(row.route)},"userHash":${jsonString(row.userHash)},"requestId":${jsonString(row.requestId)},"input":${row.input},"output":${row.output ?? 'null'},"label":${jsonString(row.label)},"score":${jsonNumber(row.score)},"latencyUs":${row.latencyUs},"status":${jsonString(row.status)},"error":${jsonString(row.error)},"shadowOf":${jsonString(row.shadowOf)},"cached":${row.cached ? 'true' : 'false'},"feedback":${feedback}}\n`;
}
