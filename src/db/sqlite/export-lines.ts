import type Database from 'better-sqlite3';
import { assembleExportPage, type ExportPieces } from '../export-pieces.js';
import type { ExportFormat, ExportPage, LogCursor, LogRange } from '../log-archive.js';

/**
 * Export lines built by SQLite itself, in C: a row comes back as a few text pieces
 * instead of nineteen values (and, in JS, an object and a formatted string each), which
 * is most of what exporting a million rows costs. The output is byte for byte what
 * src/export/format.ts writes (test/export-lines.test.ts holds them to it). REAL columns
 * (score, feedback value) are the exception: SQLite prints doubles with 17 digits where
 * JS prints the shortest text that reads back the same, so they come back as numbers
 * and JS puts them in their place.
 */

/** A free-text cell: quoted only when it holds a comma, quote or line break (RFC 4180). */
const csvCell = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN ''
    WHEN instr(${column}, '"') OR instr(${column}, ',') OR instr(${column}, char(10)) OR instr(${column}, char(13))
    THEN '"' || replace(${column}, '"', '""') || '"' ELSE ${column} END`;
/** A JSON text: always holds quotes, so always quoted. */
const jsonCell = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN '' ELSE '"' || replace(${column}, '"', '""') || '"' END`;
/** Ids, names (letters, digits, `_.-`), hashes and integers never need quoting. */
const plain = (column: string) => `ifnull(${column}, '')`;
const ISO_TIME = `strftime('%Y-%m-%dT%H:%M:%fZ', p.ts / 1000.0, 'unixepoch')`;
const BOOLEAN = `CASE p.cached WHEN 1 THEN 'true' ELSE 'false' END`;

const CSV_PIECES = `p.id || ',' || ${ISO_TIME} || ',' || p.ts || ',' || p.model || ',' || p.version
    || ',' || ${csvCell('p.route')} || ',' || ${plain('p.user_hash')} || ',' || ${csvCell('p.request_id')}
    || ',' || ${jsonCell('p.input')} || ',' || ${jsonCell('p.output')} || ',' || ${csvCell('p.label')} || ','
  AS head,
  p.score,
  ',' || p.latency_us || ',' || p.status || ',' || ${csvCell('p.error')} || ',' || ${plain('p.shadow_of')}
    || ',' || ${BOOLEAN} || ',' || ${csvCell('f.label')} || ',' || ${plain('f.ts')} || ','
  AS middle,
  NULL AS tail,
  f.value`;

// json_quote(NULL) is 'null'. The feedback object is closed in JS (its value is a REAL).
const JSONL_PIECES = `'{"id":' || json_quote(p.id) || ',"time":"' || ${ISO_TIME} || '","ts":' || p.ts
    || ',"model":' || json_quote(p.model) || ',"version":' || json_quote(p.version)
    || ',"route":' || json_quote(p.route) || ',"userHash":' || json_quote(p.user_hash)
    || ',"requestId":' || json_quote(p.request_id) || ',"input":' || p.input
    || ',"output":' || ifnull(p.output, 'null') || ',"label":' || json_quote(p.label) || ',"score":'
  AS head,
  p.score,
  ',"latencyUs":' || p.latency_us || ',"status":' || json_quote(p.status)
    || ',"error":' || json_quote(p.error) || ',"shadowOf":' || json_quote(p.shadow_of)
    || ',"cached":' || ${BOOLEAN} || ',"feedback":'
  AS middle,
  CASE WHEN f.ts IS NULL THEN NULL ELSE '{"label":' || json_quote(f.label) || ',"value":' END AS tail,
  f.value`;

const FROM = `FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE p.model = ? AND p.ts >= ? AND p.ts < ?`;
const query = (pieces: string, after: boolean) =>
  `SELECT p.ts, p.id, ${pieces}, f.ts ${FROM} ${after ? 'AND (p.ts > ? OR p.id > ?)' : ''}
   ORDER BY p.ts, p.id LIMIT ?`;

export function createSqliteExportLines(sqlite: Database.Database) {
  const statements = {
    csv: {
      first: sqlite.prepare(query(CSV_PIECES, false)).raw(),
      next: sqlite.prepare(query(CSV_PIECES, true)).raw(),
    },
    jsonl: {
      first: sqlite.prepare(query(JSONL_PIECES, false)).raw(),
      next: sqlite.prepare(query(JSONL_PIECES, true)).raw(),
    },
  };
  return async (
    range: LogRange,
    format: ExportFormat,
    after: LogCursor | null,
    limit: number,
  ): Promise<ExportPage> => {
    const { first, next } = statements[format];
    const rows = (
      after
        ? next.all(
            range.model,
            Math.max(range.since, after.ts),
            range.until,
            after.ts,
            after.id,
            limit,
          )
        : first.all(range.model, range.since, range.until, limit)
    ) as ExportPieces[];
    return assembleExportPage(rows, format);
  };
}
