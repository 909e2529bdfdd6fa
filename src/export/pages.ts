import { type ExportFormat, type LogArchive, type LogRange, readLog } from '../db/log-archive.js';
import { csvLine, jsonLine } from './format.js';

/**
 * The export of `range` as text, one keyset page at a time (memory holds one page):
 * formatted by the storage itself when it can (SQLite), else here from the rows.
 */
export async function* exportPages(
  archive: LogArchive,
  range: LogRange,
  format: ExportFormat,
  pageRows: number,
): AsyncGenerator<{ text: string; rows: number }> {
  if (archive.exportPage) {
    let after = null;
    for (;;) {
      const page = await archive.exportPage(range, format, after, pageRows);
      if (page.rows > 0) yield page;
      if (page.rows < pageRows || !page.last) return;
      after = page.last;
    }
  }
  const line = format === 'csv' ? csvLine : jsonLine;
  for await (const rows of readLog(archive, range, pageRows)) {
    let text = '';
    for (const row of rows) text += line(row);
    yield { text, rows: rows.length };
  }
}
