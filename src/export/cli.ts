import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createProgress } from '../cli/progress.js';
import { parseTimePoint } from '../compare/time-window.js';
import { readConfig } from '../config.js';
import { type PredictionWithFeedback, readLog } from '../db/log-archive.js';
import { openStorage } from '../db/open-storage.js';
import { AppError, badRequest } from '../errors.js';
import { createLogger } from '../logger.js';
import { csvHeader, type ExportFormat } from './format.js';
import { exportPages } from './pages.js';
import { createParquetExport, PARQUET_ROW_GROUP } from './parquet.js';

const USAGE = `usage: npm run export -- --model <name> --out <file|-> [--format csv|jsonl|parquet]
  [--since 7d] [--until 1h]   (30m, 12h, 7d, an ISO date or epoch ms)`;

/** Rows per keyset page: one page is all the memory an export of any size holds. */
const PAGE_ROWS = 5000;

type OutputFormat = ExportFormat | 'parquet';

function formatOf(out: string, explicit: string | undefined): OutputFormat {
  const name = out.toLowerCase();
  const format =
    explicit ?? (name.endsWith('.csv') ? 'csv' : name.endsWith('.parquet') ? 'parquet' : 'jsonl');
  if (format !== 'csv' && format !== 'jsonl' && format !== 'parquet')
    throw badRequest(`--format: "${format}" is not csv, jsonl or parquet`);
  if (format === 'parquet' && out === '-')
    throw badRequest('--format parquet: needs a file (--out name.parquet), not stdout');
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
  const progress = createProgress({ label: `export ${values.model}` });
  let rows = 0;
  const report = (total: number) =>
    // Rows logged during the export may push past the count taken at its start.
    progress.update(rows, total === 0 ? 1 : Math.min(1, rows / total));
  try {
    const total = await storage.archive.count(range);
    if (format === 'parquet') {
      const parquet = createParquetExport(values.out);
      let group: PredictionWithFeedback[] = [];
      for await (const page of readLog(storage.archive, range, PAGE_ROWS)) {
        group.push(...page);
        rows += page.length;
        if (group.length >= PARQUET_ROW_GROUP) {
          await parquet.writeRowGroup(group);
          group = [];
        }
        report(total);
      }
      await parquet.writeRowGroup(group);
      parquet.finish();
    } else {
      const out = values.out === '-' ? process.stdout : createWriteStream(values.out);
      if (format === 'csv') await write(out, csvHeader());
      for await (const page of exportPages(storage.archive, range, format, PAGE_ROWS)) {
        await write(out, page.text);
        rows += page.rows;
        report(total);
      }
      if (out !== process.stdout) {
        out.end();
        await finished(out);
      }
    }
  } finally {
    await storage.close();
  }
  progress.finish(rows, `${format} into ${values.out === '-' ? 'stdout' : values.out}`);
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
