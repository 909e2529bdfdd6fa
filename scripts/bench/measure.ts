/**
 * One measured run of one server at one concurrency (req/s, latency, the server's CPU split
 * into user and system, RSS, the log's queue and rows), and starting a scenario's server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, promValue, sampleDuring } from './load.js';
import type { ServerRun } from './report.js';
import type { Scenario } from './scenarios.js';
import { cpuTimes, rssBytes, type ServerHandle, startServer } from './servers.js';

export type Drive = (
  url: string,
  connections: number,
  durationS: number,
  body: string,
) => Promise<LoadResult>;

/** What every run of one bench shares. */
export interface BenchContext {
  drive: Drive;
  durationS: number;
  progress: (line: string) => void;
}

const SAMPLE_MS = 250;
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scrape(server: ServerHandle) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return {
    queueDepth: promValue(text, 'modelgate_prediction_log_queue_depth') ?? 0,
    rowsWritten: promValue(text, 'modelgate_prediction_log_rows_written_total') ?? 0,
  };
}

/**
 * Rows written once requests still in the server (cut off when the load stopped)
 * are answered and the queue is empty: two equal readings 100 ms apart, queue at 0.
 */
async function settledRows(server: ServerHandle): Promise<number> {
  let previous = -1;
  for (let i = 0; i < 50; i++) {
    const { queueDepth, rowsWritten } = await scrape(server);
    if (queueDepth === 0 && rowsWritten === previous) return rowsWritten;
    previous = rowsWritten;
    await sleep(100);
  }
  return previous;
}

export function loadProblems(load: LoadResult): string[] {
  return load.errors > 0 || load.timeouts > 0 || load.non2xx > 0
    ? [`${load.non2xx} non-2xx, ${load.errors} errors, ${load.timeouts} timeouts`]
    : [];
}

export async function measure(
  bench: BenchContext,
  scenario: Scenario,
  server: ServerHandle,
  connections: number,
): Promise<ServerRun> {
  const modelgate = scenario.kind === 'modelgate';
  let rssMax = rssBytes(server.pid) ?? 0;
  let queueDepthMax = 0;
  const rowsBefore = modelgate ? await settledRows(server) : 0;
  const cpuBefore = cpuTimes(server.pid);
  const load = await sampleDuring(
    bench.drive(server.url + scenario.path, connections, bench.durationS, scenario.body),
    SAMPLE_MS,
    async () => {
      rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);
      if (modelgate) queueDepthMax = Math.max(queueDepthMax, (await scrape(server)).queueDepth);
    },
  );
  const cpuAfter = cpuTimes(server.pid);
  rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);

  const problems = loadProblems(load);
  let rowsWritten: number | null = null;
  if (modelgate) {
    rowsWritten = (await settledRows(server)) - rowsBefore;
    // Requests cut off when the load stops are still answered (and logged) by the server.
    if (rowsWritten < load.ok2xx || rowsWritten > load.sent) {
      problems.push(
        `rows logged ${rowsWritten} ≠ 2xx ${load.ok2xx} (requests sent ≤ ${load.sent}; expected 2xx ≤ rows ≤ sent)`,
      );
    }
  }
  // No /proc (not Linux): NaN, shown as "–".
  const perRequest = (seconds: number | undefined) =>
    seconds === undefined ? Number.NaN : (seconds * 1e6) / Math.max(1, load.ok2xx);
  const user = perRequest(cpuBefore && cpuAfter && cpuAfter.userS - cpuBefore.userS);
  const system = perRequest(cpuBefore && cpuAfter && cpuAfter.systemS - cpuBefore.systemS);
  return {
    ...load,
    rssMaxMb: rssMax / MB,
    cpuUsPerRequest: user + system,
    cpuUserUsPerRequest: user,
    cpuSystemUsPerRequest: system,
    queueDepthMax: modelgate ? queueDepthMax : null,
    rowsWritten,
    problem: problems.length > 0 ? problems.join('; ') : null,
  };
}

export const runLine = (run: ServerRun) =>
  `c=${String(run.connections).padStart(2)}  ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  CPU ${run.cpuUsPerRequest.toFixed(0)} µs/req (user ${run.cpuUserUsPerRequest.toFixed(0)}, sys ${run.cpuSystemUsPerRequest.toFixed(0)})  RSS ${run.rssMaxMb?.toFixed(0)} MB`;

export interface StartedScenario {
  server: ServerHandle;
  /** Stops the server and removes its log's folder. */
  stop(): Promise<void>;
}

/** Starts a scenario's server (modelgate with a fresh SQLite log) and warms it for 1 s at c=16. */
export async function startScenario(
  bench: BenchContext,
  scenario: Scenario,
): Promise<StartedScenario> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const modelgate = scenario.kind === 'modelgate';
  const env = modelgate
    ? { ...scenario.env, MODELGATE_DB: join(dir, 'bench.db') }
    : { ...scenario.env };
  bench.progress(`starting ${scenario.label}`);
  let server: ServerHandle;
  try {
    server = await startServer({
      name: scenario.label,
      script: scenario.script,
      env,
      ...(modelgate ? { readyPath: '/v2/health/ready' } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const warm = await bench.drive(server.url + scenario.path, 16, 1, scenario.body);
    if (warm.ok2xx === 0 || warm.non2xx > 0 || warm.errors > 0) {
      throw new Error(
        `${scenario.label}: warm-up failed (${warm.ok2xx} ok, ${warm.non2xx} non-2xx, ${warm.errors} errors)`,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, stop };
}

export async function withServer<T>(
  bench: BenchContext,
  scenario: Scenario,
  work: (server: ServerHandle) => Promise<T>,
): Promise<T> {
  const started = await startScenario(bench, scenario);
  try {
    return await work(started.server);
  } finally {
    await started.stop();
  }
}
