import type { ExportFormat, ExportPage } from './log-archive.js';

/**
 * One exported row as both SQL dialects return it: the text around the two REAL columns is
 * built in SQL, and JS places the numbers so both storages write them with JS's shortest
 * number text (held byte-identical to the JS formatters by test/export-lines.test.ts).
 */
export type ExportPieces = [
  ts: number,
  id: string,
  head: string,
  score: number | null,
  middle: string,
  tail: string | null,
  feedbackValue: number | null,
  feedbackTs: number | null,
];

const number = (value: number | null, absent: string) => (value === null ? absent : String(value));

/** Joins a page of pieces into CSV or JSON lines, with the cursor after its last row. */
export function assembleExportPage(
  rows: readonly ExportPieces[],
  format: ExportFormat,
): ExportPage {
  let text = '';
  if (format === 'csv') {
    for (const r of rows) text += `${r[2]}${number(r[3], '')}${r[4]}${number(r[6], '')}\n`;
  } else {
    for (const r of rows) {
      const feedback = r[5] === null ? 'null' : `${r[5]}${number(r[6], 'null')},"ts":${r[7]}}`;
      text += `${r[2]}${number(r[3], 'null')}${r[4]}${feedback}}\n`;
    }
  }
  const last = rows[rows.length - 1];
  return { text, rows: rows.length, last: last ? { ts: last[0], id: last[1] } : null };
}
