/**
 * npm run bench [-- --duration 10] [--json] [--write] [--pg-url postgres://…/postgres]
 *   [--only cache]   (one scenario alone: the prediction cache on a repeating workload)
 *
 * Bare Hono + ONNX Runtime handler vs modelgate (batching off, then on), one
 * after another on loopback, each driven by autocannon at concurrency 1, 16, 64;
 * then the prediction log writer on its own and a comparison over 1,000,000 logged
 * rows, with SQLite and then PostgreSQL (at --pg-url, if reachable). See BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCache } from './cache-bench.js';
import { compareBench } from './compare-bench.js';
import { drive, promValue, sampleDuring } from './load.js';
import { benchLogWriter } from './log-writer.js';
import { benchPostgres } from './postgres-bench.js';
import {
  type BenchResult,
  evaluateTargets,
  type ServerKey,
  type ServerResult,
  type ServerRun,
  textReport,
  updateBenchmarksMd,
} from './report.js';
import { cpuSeconds, repoRoot, rssBytes, type ServerHandle, startServer } from './servers.js';

const CONNECTIONS = [1, 16, 64];
const SAMPLE_MS = 250;
const MB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    /** A PostgreSQL the bench may create (and drop) a database in. */
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    only: { type: 'string' },
  },
});
const durationS = Number(args.duration);
if (!Number.isFinite(durationS) || durationS < 1 || durationS > 120) {
  throw new Error(`--duration: expected 1..120 seconds, got "${args.duration}"`);
}
const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Target {
  key: ServerKey;
  label: string;
  script: string;
  path: string;
  env: Record<string, string>;
  modelgate: boolean;
}

function modelgateTarget(key: ServerKey, label: string, batchWindowUs?: number): Target {
  return {
    key,
    label,
    script: 'src/main.ts',
    path: '/predict/iris',
    env: {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODELGATE_CONTROL_TOKEN_NAME: 'bench',
      MODELGATE_CONTROL_TOKEN: 'bench-token-not-secret',
      ...(batchWindowUs === undefined ? {} : { MODELGATE_BATCH_WINDOW_US: String(batchWindowUs) }),
    },
    modelgate: true,
  };
}

const TARGETS: Target[] = [
  {
    key: 'bare',
    label: 'bare hono+ort',
    script: 'scripts/bench/bare-server.ts',
    path: '/predict',
    env: {},
    modelgate: false,
  },
  modelgateTarget('batch-off', 'modelgate batch off', 0),
  modelgateTarget('batch-on', 'modelgate batch on'),
];

async function scrape(server: ServerHandle) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return {
    queueDepth: promValue(text, 'modelgate_prediction_log_queue_depth') ?? 0,
    rowsWritten: promValue(text, 'modelgate_prediction_log_rows_written_total') ?? 0,
  };
}

/**
 * Rows written once requests still in the server (cut off when autocannon stopped)
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

async function measure(target: Target, server: ServerHandle, connections: number) {
  const url = server.url + target.path;
  let rssMax = rssBytes(server.pid) ?? 0;
  let queueDepthMax = 0;
  const rowsBefore = target.modelgate ? await settledRows(server) : 0;
  const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
  const load = await sampleDuring(drive(url, connections, durationS), SAMPLE_MS, async () => {
    rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);
    if (target.modelgate)
      queueDepthMax = Math.max(queueDepthMax, (await scrape(server)).queueDepth);
  });
  rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);
  const cpuUsed = (cpuSeconds(server.pid) ?? Number.NaN) - cpuBefore;

  const problems: string[] = [];
  if (load.errors > 0 || load.timeouts > 0 || load.non2xx > 0) {
    problems.push(`${load.non2xx} non-2xx, ${load.errors} errors, ${load.timeouts} timeouts`);
  }
  let rowsWritten: number | null = null;
  if (target.modelgate) {
    rowsWritten = (await settledRows(server)) - rowsBefore;
    // Requests cut off when autocannon stops are still answered (and logged) by the server.
    if (rowsWritten < load.ok2xx || rowsWritten > load.sent) {
      problems.push(
        `rows logged ${rowsWritten} ≠ 2xx ${load.ok2xx} (requests sent ${load.sent}; expected 2xx ≤ rows ≤ sent)`,
      );
    }
  }
  const run: ServerRun = {
    ...load,
    rssMaxMb: rssMax / MB,
    cpuUsPerRequest: (cpuUsed * 1e6) / Math.max(1, load.ok2xx),
    queueDepthMax: target.modelgate ? queueDepthMax : null,
    rowsWritten,
    problem: problems.length > 0 ? problems.join('; ') : null,
  };
  return run;
}

async function benchServer(target: Target): Promise<ServerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const env = target.modelgate
    ? { ...target.env, MODELGATE_DB: join(dir, 'bench.db') }
    : { ...target.env };
  progress(`starting ${target.label}`);
  const server = await startServer({
    name: target.label,
    script: target.script,
    env,
    ...(target.modelgate ? { readyPath: '/v2/health/ready' } : {}),
  });
  try {
    const warm = await drive(server.url + target.path, 16, 1);
    if (warm.ok2xx === 0 || warm.non2xx > 0 || warm.errors > 0) {
      throw new Error(
        `${target.label}: warm-up failed (${warm.ok2xx} ok, ${warm.non2xx} non-2xx, ${warm.errors} errors)`,
      );
    }
    if (!target.modelgate) await sleep(300);
    const runs: ServerRun[] = [];
    for (const connections of CONNECTIONS) {
      const run = await measure(target, server, connections);
      progress(
        `  c=${String(connections).padStart(2)}  ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  CPU ${run.cpuUsPerRequest.toFixed(0)} µs/req  RSS ${run.rssMaxMb?.toFixed(0)} MB`,
      );
      if (run.problem) progress(`  !!! ${target.label} c=${connections}: ${run.problem}`);
      runs.push(run);
    }
    return { key: target.key, label: target.label, env, runs };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

function cores(): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return availableParallelism();
  }
}

async function main(): Promise<void> {
  if (args.only === 'cache') {
    for (const line of await benchCache(durationS, progress)) process.stdout.write(`${line}\n`);
    return;
  }
  if (args.only !== undefined) throw new Error(`--only: "${args.only}" is not cache`);
  const loadStart = loadavg()[0] ?? 0;
  const servers: ServerResult[] = [];
  for (const target of TARGETS) servers.push(await benchServer(target));
  const cacheLines = await benchCache(durationS, progress);
  progress('prediction log writer: 200,000 rows');
  const logWriter = await benchLogWriter(200_000);
  progress('compare over 1,000,000 logged rows');
  const compare = await compareBench();
  progress('PostgreSQL: log writer, then compare over 1,000,000 rows');
  compare.lines.push(...(await benchPostgres(args['pg-url'] as string)), ...cacheLines);

  const problems = servers.flatMap((server) =>
    server.runs.flatMap((run) =>
      run.problem ? [`${server.label} c=${run.connections}: ${run.problem}`] : [],
    ),
  );
  if (logWriter.rowsInFile !== logWriter.rows) {
    problems.push(`log writer: ${logWriter.rows} rows written but ${logWriter.rowsInFile} in file`);
  }
  const result: BenchResult = {
    date: new Date().toISOString(),
    machine: {
      cores: cores(),
      cpu: cpuModel(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
    command: `npm run bench -- --duration ${durationS}`,
    durationS,
    servers,
    logWriter,
    compare,
    targets: evaluateTargets(servers, logWriter),
    problems,
  };

  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`\n${textReport(result)}\n`);
  if (problems.length > 0) process.exitCode = 1;

  if (args.write) {
    const path = join(repoRoot, 'BENCHMARKS.md');
    let existing: string | null = null;
    try {
      existing = readFileSync(path, 'utf8');
    } catch {}
    writeFileSync(path, updateBenchmarksMd(existing, result));
    progress(`wrote ${path}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
