import { open } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '../../src/db/storage.js';
import { csvHeader } from '../../src/export/format.js';
import { exportPages } from '../../src/export/pages.js';
import { RETENTION_DEFAULTS, startLogRetention } from '../../src/retention/log-retention.js';

const PAGE_ROWS = 5000;
const MB = 1024 * 1024;

/**
 * Export and retention over a filled log (the 1,000,000 rows the compare bench wrote):
 * the export as `npm run export` does it (keyset pages, formatted, written to
 * /dev/null), with its peak RSS; then a retention pass deleting every row, timed, with
 * the event loop's delay while it runs against the same span without it: the wait a
 * request would see on top of its own work.
 */
export async function timeExportAndRetention(storage: Storage, label: string): Promise<string[]> {
  return [...(await timeExport(storage, label)), await timeRetention(storage, label)];
}

/** The generated rows' timestamps run a little into the future. */
const untilAfterAll = () => Date.now() + 3_600_000;

export async function timeExport(storage: Storage, label: string): Promise<string[]> {
  const lines: string[] = [];
  const until = untilAfterAll();
  const total = await storage.archive.count({ model: 'iris', since: 0, until });
  for (const format of ['csv', 'jsonl'] as const) {
    const out = await open('/dev/null', 'w');
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let rows = 0;
    let bytes = 0;
    const started = process.hrtime.bigint();
    if (format === 'csv') await out.write(csvHeader());
    for await (const page of exportPages(
      storage.archive,
      { model: 'iris', since: 0, until },
      format,
      PAGE_ROWS,
    )) {
      bytes += Buffer.byteLength(page.text);
      await out.write(page.text);
      rows += page.rows;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await out.close();
    if (rows !== total) throw new Error(`export read ${rows} of ${total} rows`);
    lines.push(
      `export of ${rows.toLocaleString('en')} rows as ${format} (${label}): ${seconds.toFixed(1)} s = ${Math.round(rows / seconds).toLocaleString('en')} rows/s, ${(bytes / MB).toFixed(0)} MB; RSS ${(rssBefore / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB`,
    );
  }
  return lines;
}

export async function timeRetention(storage: Storage, label: string): Promise<string> {
  const until = untilAfterAll();
  const total = await storage.archive.count({ model: 'iris', since: 0, until });
  // Event-loop delay over a quiet span as long as the deletion, then during it.
  const delay = () => {
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    return () => {
      histogram.disable();
      return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
    };
  };
  const batchMs: number[] = [];
  // CPU time too: on a shared machine wall time mostly measures the other processes.
  const batchCpuMs: number[] = [];
  const timed = {
    ...storage.archive,
    async deleteBefore(before: number, limit: number) {
      const started = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      const deleted = await storage.archive.deleteBefore(before, limit);
      const used = process.cpuUsage(cpu);
      batchCpuMs.push((used.user + used.system) / 1000);
      batchMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      return deleted;
    },
  };
  const stopDeleting = delay();
  const started = process.hrtime.bigint();
  const retention = startLogRetention({
    archive: timed,
    retentionMs: 0,
    leads: () => true,
    now: () => until,
    intervalMs: 3_600_000,
  });
  const deleted = await retention.runOnce();
  await retention.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const during = stopDeleting();
  const stopQuiet = delay();
  await sleep(Math.min(seconds * 1000, 30_000));
  const quiet = stopQuiet();
  if (deleted < total) throw new Error(`retention deleted ${deleted} of ${total} rows`);
  const p99 = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)] ?? 0;
  const maxOf = (values: number[]) => Math.max(0, ...values);
  return `retention deleting ${deleted.toLocaleString('en')} rows (${label}, batches of ${RETENTION_DEFAULTS.batchRows}, ${RETENTION_DEFAULTS.pauseMs} ms apart): ${seconds.toFixed(1)} s; a batch p99 ${p99(batchMs).toFixed(1)} ms, max ${maxOf(batchMs).toFixed(1)} ms (CPU p99 ${p99(batchCpuMs).toFixed(1)} ms, max ${maxOf(batchCpuMs).toFixed(1)} ms); event-loop delay p99 ${during.p99.toFixed(1)} ms while deleting vs ${quiet.p99.toFixed(1)} ms quiet (max ${during.max.toFixed(1)} vs ${quiet.max.toFixed(1)} ms)`;
}
