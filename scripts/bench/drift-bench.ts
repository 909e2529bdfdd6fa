import { loadDrift } from '../../src/compare/load-drift.js';
import type { Storage } from '../../src/db/storage.js';

const RUNS = 3;

/**
 * Drift over the compare bench's log (1,000,000 iris rows): the whole log as the window
 * against the whole log as the baseline window, i.e. two streamed passes of every row,
 * as GET /compare/iris?baseline=… computes it. Wall and CPU time, median of three.
 */
export async function timeDrift(storage: Storage, label: string, rows: number): Promise<string> {
  const until = Date.now() + 3_600_000; // the generated rows run a little into the future
  const runs: Array<{ wallMs: number; cpuMs: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const drift = await loadDrift(
      { queries: storage.queries, flushLog: () => storage.predictionLog.flush() },
      {
        model: 'iris',
        since: 0,
        until,
        baseline: { kind: 'window', since: 0, until },
      },
    );
    const used = process.cpuUsage(cpu);
    runs.push({
      wallMs: Number(process.hrtime.bigint() - started) / 1e6,
      cpuMs: (used.user + used.system) / 1000,
    });
    const counted = drift.versions.reduce((sum, v) => sum + v.rows, 0);
    if (counted !== rows) throw new Error(`drift counted ${counted} of ${rows} rows`);
  }
  runs.sort((a, b) => a.wallMs - b.wallMs);
  const median = runs[Math.floor(RUNS / 2)] as { wallMs: number; cpuMs: number };
  return `drift over ${rows.toLocaleString('en')} rows against a ${rows.toLocaleString('en')}-row baseline window (${label}; two streamed passes): median ${(median.wallMs / 1000).toFixed(1)} s wall, ${(median.cpuMs / 1000).toFixed(1)} s CPU of ${RUNS} runs`;
}
