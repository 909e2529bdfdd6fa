/**
 * npm run bench [-- --duration 10] [--json] [--write] [--load wrk|autocannon]
 *                [--servers-only] [--pg-url postgres://…/postgres]
 *                [--only cache|export|drift|partitions]   (one scenario alone: the prediction
 *                cache on a repeating workload; the export of a 1,000,000-row SQLite log; drift
 *                over one; PostgreSQL retention dropping a day's partition vs deleting its rows
 *                [--rows 1000000])
 *                [--only protocols]   (one scenario alone: OIP over REST vs gRPC at c=64)
 *                [--only replay]   (one scenario alone: live p99 at c=16 without and with a
 *                replay running beside it)
 *                [--only log-writer]  (one scenario alone: the SQLite prediction log writer,
 *                200,000 rows with an event-loop turn per row, and its CPU per row)
 *
 * One run, servers one after another on loopback, each at concurrency 1, 16 and 64:
 * the bare Hono + ONNX Runtime handler and modelgate on iris (~12 µs a run) and on a seeded
 * heavy MLP (~0.5 ms a run); then 50 flips under c=64 load; then the Open Inference Protocol
 * over REST and over gRPC at c=64 (one Node client process each); then the prediction log writer
 * and a comparison over 1,000,000 logged rows, with SQLite and PostgreSQL (at --pg-url, if
 * reachable). Load comes from wrk (a separate process) when it is installed, else from
 * autocannon in this process; the report says which. See BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import buildDist from '../../test/support/build-dist.js';
import { benchCache } from './cache-bench.js';
import { compareBench, driftBench, exportBench } from './compare-bench.js';
import { benchFlips, steadyP99 } from './flips.js';
import { writeHeavyModel } from './heavy-model.js';
import {
  drive as driveAutocannon,
  IRIS_BODY,
  type LoadResult,
  promValue,
  sampleDuring,
} from './load.js';
import { benchLogWriter } from './log-writer.js';
import { benchPartitions } from './partition-bench.js';
import { benchPostgres } from './postgres-bench.js';
import { compareProtocols, protocolsLine } from './protocols.js';
import { benchReplay } from './replay-bench.js';
import {
  type BenchResult,
  evaluateTargets,
  logWriterLine,
  type ServerResult,
  type ServerRun,
  textReport,
  updateBenchmarksMd,
} from './report.js';
import { type Scenario, scenarios } from './scenarios.js';
import { cpuSeconds, repoRoot, rssBytes, type ServerHandle, startServer } from './servers.js';
import { driveWrk, wrkAvailable } from './wrk.js';

const CONNECTIONS = [1, 16, 64];
const SAMPLE_MS = 250;
const MB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    load: { type: 'string', default: 'auto' },
    /** Only the HTTP servers and the flips: skip the log writer and the 1,000,000-row compares. */
    'servers-only': { type: 'boolean', default: false },
    /** A PostgreSQL the bench may create (and drop) a database in. */
    'pg-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    only: { type: 'string' },
    /** Rows per day for --only partitions. */
    rows: { type: 'string' },
  },
});
const durationS = Number(args.duration);
if (!Number.isFinite(durationS) || durationS < 1 || durationS > 120) {
  throw new Error(`--duration: expected 1..120 seconds, got "${args.duration}"`);
}
if (!['auto', 'wrk', 'autocannon'].includes(args.load as string)) {
  throw new Error(`--load: expected wrk, autocannon or auto, got "${args.load}"`);
}
const loadGenerator: 'wrk' | 'autocannon' =
  args.load === 'autocannon' || (args.load === 'auto' && !wrkAvailable()) ? 'autocannon' : 'wrk';
const drive = (url: string, connections: number, seconds: number, body: string) =>
  loadGenerator === 'wrk'
    ? driveWrk(url, connections, seconds, body)
    : driveAutocannon(url, connections, seconds, body);

const progress = (line: string) => process.stderr.write(`${line}\n`);
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

function loadProblems(load: LoadResult): string[] {
  return load.errors > 0 || load.timeouts > 0 || load.non2xx > 0
    ? [`${load.non2xx} non-2xx, ${load.errors} errors, ${load.timeouts} timeouts`]
    : [];
}

async function measure(scenario: Scenario, server: ServerHandle, connections: number) {
  const modelgate = !scenario.bare;
  let rssMax = rssBytes(server.pid) ?? 0;
  let queueDepthMax = 0;
  const rowsBefore = modelgate ? await settledRows(server) : 0;
  const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
  const load = await sampleDuring(
    drive(server.url + scenario.path, connections, durationS, scenario.body),
    SAMPLE_MS,
    async () => {
      rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);
      if (modelgate) queueDepthMax = Math.max(queueDepthMax, (await scrape(server)).queueDepth);
    },
  );
  rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0);
  const cpuUsed = (cpuSeconds(server.pid) ?? Number.NaN) - cpuBefore;

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
  const run: ServerRun = {
    ...load,
    rssMaxMb: rssMax / MB,
    cpuUsPerRequest: (cpuUsed * 1e6) / Math.max(1, load.ok2xx),
    queueDepthMax: modelgate ? queueDepthMax : null,
    rowsWritten,
    problem: problems.length > 0 ? problems.join('; ') : null,
  };
  return run;
}

async function withServer<T>(
  scenario: Scenario,
  work: (server: ServerHandle) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const env = scenario.bare
    ? { ...scenario.env }
    : { ...scenario.env, MODELGATE_DB: join(dir, 'bench.db') };
  progress(`starting ${scenario.label}`);
  const server = await startServer({
    name: scenario.label,
    script: scenario.script,
    env,
    ...(scenario.bare ? {} : { readyPath: '/v2/health/ready' }),
  });
  try {
    const warm = await drive(server.url + scenario.path, 16, 1, scenario.body);
    if (warm.ok2xx === 0 || warm.non2xx > 0 || warm.errors > 0) {
      throw new Error(
        `${scenario.label}: warm-up failed (${warm.ok2xx} ok, ${warm.non2xx} non-2xx, ${warm.errors} errors)`,
      );
    }
    return await work(server);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchServer(scenario: Scenario): Promise<ServerResult> {
  return withServer(scenario, async (server) => {
    const runs: ServerRun[] = [];
    for (const connections of CONNECTIONS) {
      const run = await measure(scenario, server, connections);
      progress(
        `  c=${String(connections).padStart(2)}  ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  CPU ${run.cpuUsPerRequest.toFixed(0)} µs/req  RSS ${run.rssMaxMb?.toFixed(0)} MB`,
      );
      if (run.problem) progress(`  !!! ${scenario.label} c=${connections}: ${run.problem}`);
      runs.push(run);
    }
    return {
      id: scenario.id,
      model: scenario.model,
      bare: scenario.bare,
      label: scenario.label,
      env: scenario.env,
      runs,
    };
  });
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
  if (args.only === 'export') {
    for (const line of await exportBench()) process.stdout.write(`${line}\n`);
    return;
  }
  if (args.only === 'protocols') {
    buildDist();
    const heavyModelsDir = mkdtempSync(join(tmpdir(), 'modelgate-heavy-'));
    try {
      const iris = scenarios(heavyModelsDir, writeHeavyModel(heavyModelsDir)).find(
        (scenario) => scenario.id === 'iris/batch-on',
      );
      if (!iris) throw new Error('no iris/batch-on scenario');
      const protocols = await withServer(iris, (server) => compareProtocols(server, durationS));
      process.stdout.write(`${protocolsLine(protocols)}\n`);
    } finally {
      rmSync(heavyModelsDir, { recursive: true, force: true });
    }
    return;
  }
  if (args.only === 'log-writer') {
    const log = await benchLogWriter(200_000);
    process.stdout.write(`${logWriterLine(log)}\n`);
    const pass = log.rowsPerSecond >= 100_000;
    process.stdout.write(
      `${pass ? 'PASS' : 'MISS'}  (log) prediction log writer ≥ 100,000 rows/s with an event-loop turn per row (load average ${(loadavg()[0] ?? 0).toFixed(1)})\n`,
    );
    if (log.rowsInFile !== log.rows) {
      process.stdout.write(`!!! ${log.rows} rows written but ${log.rowsInFile} in the file\n`);
      process.exitCode = 1;
    }
    return;
  }
  if (args.only === 'drift') {
    process.stdout.write(`${await driftBench()}\n`);
    return;
  }
  if (args.only === 'partitions') {
    const rows = Number(args.rows ?? 1_000_000);
    for (const line of await benchPartitions(args['pg-url'] as string, rows))
      process.stdout.write(`${line}\n`);
    return;
  }
  if (args.only === 'replay') {
    progress(`load generator: ${loadGenerator}`);
    for (const line of await benchReplay(drive, IRIS_BODY, durationS, progress))
      process.stdout.write(`${line}\n`);
    return;
  }
  if (args.only !== undefined) {
    throw new Error(
      `--only: "${args.only}" is not cache, export, protocols, drift, partitions, replay or log-writer`,
    );
  }
  buildDist();
  const loadStart = loadavg()[0] ?? 0;
  progress(`load generator: ${loadGenerator}`);
  const heavyModelsDir = mkdtempSync(join(tmpdir(), 'modelgate-heavy-'));
  try {
    const heavyVersionDir = writeHeavyModel(heavyModelsDir);
    const all = scenarios(heavyModelsDir, heavyVersionDir);
    const servers: ServerResult[] = [];
    for (const scenario of all) servers.push(await benchServer(scenario));

    progress('50 flips under c=64 load on iris');
    const irisDefaults = all.find((scenario) => scenario.id === 'iris/batch-on');
    if (!irisDefaults) throw new Error('no iris/batch-on scenario');
    const flips = await withServer(irisDefaults, (server) =>
      benchFlips(server.url, drive, irisDefaults.body, durationS),
    );
    progress(
      `  steady p99 ${steadyP99(flips).toFixed(2)} ms (${flips.steady.p99Ms.toFixed(2)} before, ${flips.steadyAfter.p99Ms.toFixed(2)} after), during flips ${flips.during.p99Ms.toFixed(2)} ms; ${flips.flipsFailed} flips failed`,
    );

    progress('Open Inference Protocol at c=64 on iris: REST, then gRPC');
    const protocols = await withServer(irisDefaults, (server) =>
      compareProtocols(server, durationS),
    );
    progress(`  ${protocolsLine(protocols)}`);

    let logWriter = null;
    let compare = null;
    if (!args['servers-only']) {
      const cacheLines = await benchCache(durationS, progress);
      progress('prediction log writer: 200,000 rows');
      logWriter = await benchLogWriter(200_000);
      progress('compare over 1,000,000 logged rows');
      compare = await compareBench();
      progress('PostgreSQL: log writer, then compare over 1,000,000 rows');
      compare.lines.push(...(await benchPostgres(args['pg-url'] as string)), ...cacheLines);
    }

    const problems = servers.flatMap((server) =>
      server.runs.flatMap((run) =>
        run.problem ? [`${server.label} c=${run.connections}: ${run.problem}`] : [],
      ),
    );
    for (const [name, load] of [
      ['flips: steady before', flips.steady],
      ['flips: steady after', flips.steadyAfter],
      ['flips: during', flips.during],
      ['protocols: REST', protocols.rest],
      ['protocols: gRPC', protocols.grpc],
    ] as const) {
      for (const problem of loadProblems(load)) problems.push(`${name}: ${problem}`);
    }
    if (logWriter && logWriter.rowsInFile !== logWriter.rows) {
      problems.push(
        `log writer: ${logWriter.rows} rows written but ${logWriter.rowsInFile} in file`,
      );
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
      command: `npm run bench -- --duration ${durationS}${args['servers-only'] ? ' --servers-only' : ''}`,
      loadGenerator,
      durationS,
      servers,
      flips,
      protocols,
      logWriter,
      compare,
      targets: evaluateTargets(servers, flips, logWriter),
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
  } finally {
    rmSync(heavyModelsDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
