import type pg from 'pg';
import { assembleExportPage, type ExportPieces } from '../export-pieces.js';
import type { ExportFormat, ExportPage, LogCursor, LogRange } from '../log-archive.js';
import { whileReachable } from './errors.js';

/**
 * Export lines built by PostgreSQL, as src/db/sqlite/export-lines.ts does with SQLite:
 * a row crosses the wire as four pieces instead of nineteen values for node-postgres to
 * parse one by one, byte for byte what src/export/format.ts writes
 * (test/export-lines.test.ts). The two float8 columns come back as numbers and are
 * placed by JS, so their text is JS's whatever the server's extra_float_digits says.
 */

const csvCell = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN '' WHEN ${column} ~ '[",\\r\\n]'
    THEN '"' || replace(${column}, '"', '""') || '"' ELSE ${column} END`;
const jsonCell = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN '' ELSE '"' || replace(${column}, '"', '""') || '"' END`;
const json = (column: string) => `coalesce(to_json(${column})::text, 'null')`;
const ISO_TIME = `to_char(timestamp 'epoch' + p.ts * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const BOOLEAN = `CASE WHEN p.cached THEN 'true' ELSE 'false' END`;

const CSV_PIECES = `p.id || ',' || ${ISO_TIME} || ',' || p.ts || ',' || p.model || ',' || p.version
    || ',' || ${csvCell('p.route')} || ',' || coalesce(p.user_hash, '') || ',' || ${csvCell('p.request_id')}
    || ',' || ${jsonCell('p.input')} || ',' || ${jsonCell('p.output')} || ',' || ${csvCell('p.label')} || ','
  AS head,
  p.score,
  ',' || p.latency_us || ',' || p.status || ',' || ${csvCell('p.error')} || ',' || coalesce(p.shadow_of, '')
    || ',' || ${BOOLEAN} || ',' || ${csvCell('f.label')} || ',' || coalesce(f.ts::text, '') || ','
  AS middle,
  NULL::text AS tail`;

const JSONL_PIECES = `'{"id":' || ${json('p.id')} || ',"time":"' || ${ISO_TIME} || '","ts":' || p.ts
    || ',"model":' || ${json('p.model')} || ',"version":' || ${json('p.version')}
    || ',"route":' || ${json('p.route')} || ',"userHash":' || ${json('p.user_hash')}
    || ',"requestId":' || ${json('p.request_id')} || ',"input":' || p.input
    || ',"output":' || coalesce(p.output, 'null') || ',"label":' || ${json('p.label')} || ',"score":'
  AS head,
  p.score,
  ',"latencyUs":' || p.latency_us || ',"status":' || ${json('p.status')}
    || ',"error":' || ${json('p.error')} || ',"shadowOf":' || ${json('p.shadow_of')}
    || ',"cached":' || ${BOOLEAN} || ',"feedback":'
  AS middle,
  CASE WHEN f.ts IS NULL THEN NULL ELSE '{"label":' || ${json('f.label')} || ',"value":' END AS tail`;

const query = (pieces: string, after: boolean) =>
  `SELECT p.ts::float8 AS ts, p.id, ${pieces}, f.value, f.ts::float8 AS "feedbackTs"
   FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
   WHERE p.model = $1 AND p.ts >= $2 AND p.ts < $3 ${after ? 'AND (p.ts, p.id) > ($2, $5)' : ''}
   ORDER BY p.ts, p.id LIMIT $4`;

export function createPgExportLines(pool: pg.Pool) {
  const text = {
    csv: { first: query(CSV_PIECES, false), next: query(CSV_PIECES, true) },
    jsonl: { first: query(JSONL_PIECES, false), next: query(JSONL_PIECES, true) },
  };
  return async (
    range: LogRange,
    format: ExportFormat,
    after: LogCursor | null,
    limit: number,
  ): Promise<ExportPage> => {
    const since = Math.ceil(range.since);
    const until = Math.ceil(range.until);
    const statement = after
      ? { text: text[format].next, values: [range.model, after.ts, until, limit, after.id] }
      : { text: text[format].first, values: [range.model, since, until, limit] };
    const { rows } = await whileReachable(
      pool.query<ExportPieces>({ ...statement, rowMode: 'array' }),
    );
    return assembleExportPage(rows, format);
  };
}
