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
 *                [--rounds 5] [--heavy-rounds]
 *                [--only ratios]   (the c=64 rounds alone, for a quick A/B of a change)
 *
 * Single runs, servers one after another on loopback, at concurrency 1 and 16 (and 64 for
 * those not in the rounds): the bare Hono + ONNX Runtime handler and modelgate on iris
 * (~12 µs a run) and on a seeded heavy MLP (~0.5 ms a run). Then c=64 in interleaved rounds
 * (run-rounds.ts): the Hono floor without a model, iris bare, modelgate batch off and
 * defaults (with --heavy-rounds the heavy model's four servers too), each round every
 * server once, in an order balanced for carry-over; ratios to bare are taken within a round and the
 * median over rounds decides the targets. Then 50 flips under c=64 load; then the Open
 * Inference Protocol over REST and over gRPC at c=64 (one Node client process each); then the
 * prediction log writer and a comparison over 1,000,000 logged rows, with SQLite and
 * PostgreSQL (at --pg-url, if reachable). Load comes from wrk (a separate process) when it is installed, else from
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
import { drive as driveAutocannon, IRIS_BODY } from './load.js';
import { benchLogWriter } from './log-writer.js';
import { type BenchContext, loadProblems, measure, runLine, withServer } from './measure.js';
import { benchPartitions } from './partition-bench.js';
import { benchPostgres } from './postgres-bench.js';
import { compareProtocols, protocolsLine } from './protocols.js';
import { benchReplay } from './replay-bench.js';
import {
  type BenchResult,
  evaluateTargets,
  logWriterLine,
  placementLine,
  ratioTargets,
  roundsReport,
  type ServerResult,
  type ServerRun,
  targetLine,
  textReport,
  updateBenchmarksMd,
} from './report.js';
import type { RoundsResult } from './rounds.js';
import { runRounds, serverResult, withServers } from './run-rounds.js';
import { inRounds, type Scenario, scenarios } from './scenarios.js';
import { repoRoot, type ServerHandle } from './servers.js';
import { driveWrk, wrkAvailable } from './wrk.js';

const CONNECTIONS = [1, 16, 64];
/** Servers in the rounds get their c=64 figures there. */
const CONNECTIONS_BESIDE_ROUNDS = [1, 16];

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
    /** Interleaved c=64 rounds (odd: the median is one round's figure). */
    rounds: { type: 'string', default: '5' },
    /** The heavy model's four servers in the rounds too (4 × rounds × duration s more). */
    'heavy-rounds': { type: 'boolean', default: false },
  },
});
const durationS = Number(args.duration);
if (!Number.isFinite(durationS) || durationS < 1 || durationS > 120) {
  throw new Error(`--duration: expected 1..120 seconds, got "${args.duration}"`);
}
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  throw new Error(`--rounds: expected a whole number 1..50, got "${args.rounds}"`);
}
const heavyRounds = args['heavy-rounds'] as boolean;
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
const bench: BenchContext = { drive, durationS, progress };

async function singleRuns(
  scenario: Scenario,
  server: ServerHandle,
  connections: number[],
): Promise<ServerResult> {
  const runs: ServerRun[] = [];
  for (const c of connections) {
    const run = await measure(bench, scenario, server, c);
    progress(`  ${runLine(run)}`);
    if (run.problem) progress(`  !!! ${scenario.label} c=${c}: ${run.problem}`);
    runs.push(run);
  }
  return serverResult(scenario, runs);
}

/**
 * The servers part: the servers in the rounds are started first and stay up for their c=1 and
 * c=16 single runs and the rounds; the others start one at a time for c=1, 16 and 64. The floor
 * runs in the rounds only.
 */
async function benchServers(
  all: Scenario[],
): Promise<{ servers: ServerResult[]; rounds: RoundsResult }> {
  const roundScenarios = all.filter((scenario) => inRounds(scenario, heavyRounds));
  return withServers(bench, roundScenarios, async (running) => {
    const servers: ServerResult[] = [];
    for (const scenario of all) {
      if (scenario.kind === 'floor') continue;
      const up = running.find((candidate) => candidate.scenario.id === scenario.id);
      if (up) {
        progress(`${scenario.label}: single runs`);
        servers.push(await singleRuns(scenario, up.server, CONNECTIONS_BESIDE_ROUNDS));
      } else {
        servers.push(
          await withServer(bench, scenario, (server) => singleRuns(scenario, server, CONNECTIONS)),
        );
      }
    }
    return { servers, rounds: await runRounds(bench, running, rounds) };
  });
}

/** Every problem of a set of runs, named by server and by `where` the run was. */
const runProblems = (servers: ServerResult[], where: (run: ServerRun, index: number) => string) =>
  servers.flatMap((server) =>
    server.runs.flatMap((run, index) =>
      run.problem ? [`${server.label} ${where(run, index)}: ${run.problem}`] : [],
    ),
  );

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

/** --only ratios: the c=64 rounds alone, their table and the req/s targets. */
async function onlyRatios(): Promise<void> {
  buildDist();
  progress(`load generator: ${loadGenerator}`);
  const heavyModelsDir = mkdtempSync(join(tmpdir(), 'modelgate-heavy-'));
  try {
    // The heavy model is generated only when it is served.
    const heavyVersionDir = heavyRounds
      ? writeHeavyModel(heavyModelsDir)
      : join(heavyModelsDir, 'heavy', 'v1');
    const roundScenarios = scenarios(heavyModelsDir, heavyVersionDir).filter((scenario) =>
      inRounds(scenario, heavyRounds),
    );
    const result = await withServers(bench, roundScenarios, (running) =>
      runRounds(bench, running, rounds),
    );
    const problems = runProblems(result.servers, (_, index) => `round ${index + 1}`);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const placement = placementLine([], result);
      const lines = [
        '',
        `load from ${loadGenerator} · load average ${(loadavg()[0] ?? 0).toFixed(1)}`,
        ...roundsReport(result, false),
        ...(placement ? ['', placement] : []),
        '',
        'targets:',
        ...ratioTargets([], result).map((target) => targetLine(target, false)),
        ...problems.map((problem) => `!!! ${problem}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    rmSync(heavyModelsDir, { recursive: true, force: true });
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
      const protocols = await withServer(bench, iris, (server) =>
        compareProtocols(server, durationS),
      );
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
  if (args.only === 'ratios') {
    await onlyRatios();
    return;
  }
  if (args.only !== undefined) {
    throw new Error(
      `--only: "${args.only}" is not cache, export, protocols, drift, partitions, replay, log-writer or ratios`,
    );
  }
  buildDist();
  const loadStart = loadavg()[0] ?? 0;
  progress(`load generator: ${loadGenerator}`);
  const heavyModelsDir = mkdtempSync(join(tmpdir(), 'modelgate-heavy-'));
  try {
    const heavyVersionDir = writeHeavyModel(heavyModelsDir);
    const all = scenarios(heavyModelsDir, heavyVersionDir);
    const { servers, rounds: roundsResult } = await benchServers(all);

    progress('50 flips under c=64 load on iris');
    const irisDefaults = all.find((scenario) => scenario.id === 'iris/batch-on');
    if (!irisDefaults) throw new Error('no iris/batch-on scenario');
    const flips = await withServer(bench, irisDefaults, (server) =>
      benchFlips(server.url, drive, irisDefaults.body, durationS),
    );
    progress(
      `  steady p99 ${steadyP99(flips).toFixed(2)} ms (${flips.steady.p99Ms.toFixed(2)} before, ${flips.steadyAfter.p99Ms.toFixed(2)} after), during flips ${flips.during.p99Ms.toFixed(2)} ms; ${flips.flipsFailed} flips failed`,
    );

    progress('Open Inference Protocol at c=64 on iris: REST, then gRPC');
    const protocols = await withServer(bench, irisDefaults, (server) =>
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

    const problems = [
      ...runProblems(servers, (run) => `c=${run.connections}`),
      ...runProblems(roundsResult.servers, (_, index) => `c=64 round ${index + 1}`),
    ];
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
      command: `npm run bench -- --duration ${durationS} --rounds ${rounds}${heavyRounds ? ' --heavy-rounds' : ''}${args['servers-only'] ? ' --servers-only' : ''}`,
      loadGenerator,
      durationS,
      servers,
      rounds: roundsResult,
      flips,
      protocols,
      logWriter,
      compare,
      targets: evaluateTargets(servers, roundsResult, flips, logWriter),
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
