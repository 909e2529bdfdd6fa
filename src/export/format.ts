import type { PredictionWithFeedback } from '../db/log-archive.js';

/**
 * One logged prediction with its feedback, as `npm run export` writes it: a CSV line
 * (input and output as JSON text cells) or a JSON line (input and output as objects).
 */
export type ExportFormat = 'csv' | 'jsonl';

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

export function jsonLine(row: PredictionWithFeedback): string {
  return `${JSON.stringify({
    id: row.id,
    time: new Date(row.ts).toISOString(),
    ts: row.ts,
    model: row.model,
    version: row.version,
    route: row.route,
    userHash: row.userHash,
    requestId: row.requestId,
    // Logged as JSON text by the gateway itself; embedded as values, not strings.
    input: JSON.parse(row.input) as unknown,
    output: row.output === null ? null : (JSON.parse(row.output) as unknown),
    label: row.label,
    score: row.score,
    latencyUs: row.latencyUs,
    status: row.status,
    error: row.error,
    shadowOf: row.shadowOf,
    cached: Boolean(row.cached),
    feedback:
      row.feedbackTs === null
        ? null
        : { label: row.feedbackLabel, value: row.feedbackValue, ts: row.feedbackTs },
  })}\n`;
}
