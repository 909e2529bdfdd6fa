import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createProgress } from '../cli/progress.js';
import { parseTimePoint } from '../compare/time-window.js';
import { readConfig } from '../config.js';
import { openStorage } from '../db/open-storage.js';
import { AppError, badRequest } from '../errors.js';
import { createLogger } from '../logger.js';
import { csvHeader, type ExportFormat } from './format.js';
import { exportPages } from './pages.js';

const USAGE = `usage: npm run export -- --model <name> --out <file|-> [--format csv|jsonl]
  [--since 7d] [--until 1h]   (30m, 12h, 7d, an ISO date or epoch ms)`;

/** Rows per keyset page: one page is all the memory an export of any size holds. */
const PAGE_ROWS = 5000;

function formatOf(out: string, explicit: string | undefined): ExportFormat {
  const format = explicit ?? (out.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (format === 'parquet') {
    throw badRequest(
      '--format parquet: no Parquet writer is bundled; export csv or jsonl and convert with DuckDB (README "Exporting the log")',
    );
  }
  if (format !== 'csv' && format !== 'jsonl')
    throw badRequest(`--format: "${format}" is not csv or jsonl`);
  return format;
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/**
 * `npm run export`: the prediction log of one model, with feedback, as CSV or JSON lines,
 * streamed page by page from SQLite or PostgreSQL (whichever the gateway uses), in
 * (ts, id) order. Safe while the gateway runs: it only reads.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
    },
  });
  if (!values.model || !values.out) throw badRequest(USAGE);
  const format = formatOf(values.out, values.format);
  const now = Date.now();
  const range = {
    model: values.model,
    since: parseTimePoint('--since', values.since, now) ?? 0,
    until: parseTimePoint('--until', values.until, now) ?? now + 1,
  };

  const config = readConfig();
  const storage = await openStorage(config, createLogger('warn'), { tool: true });
  const toStdout = values.out === '-';
  const out = toStdout ? process.stdout : createWriteStream(values.out);
  const progress = createProgress({ label: `export ${values.model}` });
  let rows = 0;
  try {
    const total = await storage.archive.count(range);
    if (format === 'csv') await write(out, csvHeader());
    for await (const page of exportPages(storage.archive, range, format, PAGE_ROWS)) {
      await write(out, page.text);
      rows += page.rows;
      // Rows logged during the export may push past the count taken at its start.
      progress.update(rows, total === 0 ? 1 : Math.min(1, rows / total));
    }
  } finally {
    await storage.close();
  }
  if (!toStdout) {
    out.end();
    await finished(out);
  }
  progress.finish(rows, `${format} into ${toStdout ? 'stdout' : values.out}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `export: ${error instanceof AppError ? error.message : ((error as Error).stack ?? error)}\n`,
    );
    process.exit(error instanceof AppError ? 2 : 1);
  },
);
