import type { CompareBenchResult } from './compare-bench.js';
import { type FlipResult, steadyP99 } from './flips.js';
import type { LoadResult } from './load.js';
import type { LogWriterResult } from './log-writer.js';
import { type ProtocolComparison, protocolsLine } from './protocols.js';
import type { ModelKey } from './scenarios.js';

export interface ServerRun extends LoadResult {
  /** Max VmRSS of the server process sampled every 250 ms during the run. */
  rssMaxMb: number | null;
  /** Server CPU time (user + system, from /proc/<pid>/stat) per 2xx response: robust to a noisy machine. */
  cpuUsPerRequest: number;
  /** modelgate only: max `modelgate_prediction_log_queue_depth` scraped during the run. */
  queueDepthMax: number | null;
  /** modelgate only: growth of `modelgate_prediction_log_rows_written_total` over the run. */
  rowsWritten: number | null;
  /** null when fine; otherwise what went wrong (errors, non-2xx, rows that do not add up). */
  problem: string | null;
}

export interface ServerResult {
  /** e.g. "iris/batch-on" (scripts/bench/scenarios.ts). */
  id: string;
  model: ModelKey;
  /** The bare handler the other servers of the same model are compared with. */
  bare: boolean;
  label: string;
  env: Record<string, string>;
  runs: ServerRun[];
}

export interface Target {
  id: string;
  description: string;
  pass: boolean;
  detail: string;
}

export interface BenchResult {
  date: string;
  machine: { cores: number; cpu: string; node: string; platform: string };
  /** 1-minute load average before and after: the machine is shared, so say how busy it was. */
  loadAverage: { start: number; end: number };
  command: string;
  loadGenerator: 'wrk' | 'autocannon';
  durationS: number;
  servers: ServerResult[];
  flips: FlipResult;
  /** gRPC vs REST on the Open Inference Protocol at c=64. */
  protocols: ProtocolComparison;
  /** null with --servers-only. */
  logWriter: LogWriterResult | null;
  compare: CompareBenchResult | null;
  targets: Target[];
  problems: string[];
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

const runAt = (server: ServerResult | undefined, connections: number) =>
  server?.runs.find((run) => run.connections === connections);

/** How far `value` is from `goal`, as "12% short" or "30% above". */
function margin(value: number, goal: number, higherIsBetter = true): string {
  const diff = (value - goal) / goal;
  const better = higherIsBetter ? diff >= 0 : diff <= 0;
  return `${Math.abs(diff * 100).toFixed(0)}% ${better ? 'better than' : 'short of'} the target`;
}

const bareOf = (servers: ServerResult[], server: ServerResult | undefined) =>
  servers.find((candidate) => candidate.bare && candidate.model === server?.model);

/** "× bare" for one server at one concurrency, with its p99 check; undefined when either is missing. */
function againstBare(servers: ServerResult[], id: string, connections: number) {
  const server = servers.find((candidate) => candidate.id === id);
  const run = runAt(server, connections);
  const bare = runAt(bareOf(servers, server), connections);
  if (!run || !bare) return undefined;
  return { run, bare, ratio: run.rps / bare.rps, p99ok: run.p99Ms <= bare.p99Ms };
}

/** Issue 20's targets, all at c=64 in one run. */
export function evaluateTargets(
  servers: ServerResult[],
  flips: FlipResult,
  logWriter: LogWriterResult | null,
  rssLimitMb = 300,
): Target[] {
  const targets: Target[] = [];
  const ratioTarget = (
    id: string,
    server: string,
    goal: number,
    p99: boolean,
    description: string,
  ) => {
    const found = againstBare(servers, server, 64);
    if (!found) return;
    const { run, bare, ratio, p99ok } = found;
    targets.push({
      id,
      description,
      pass: ratio >= goal && (!p99 || p99ok),
      detail:
        `${ratio.toFixed(2)}× (${fixed(run.rps, 0)} vs ${fixed(bare.rps, 0)} req/s; ${margin(ratio, goal)})` +
        (p99
          ? `; p99 ${fixed(run.p99Ms, 1)} vs ${fixed(bare.p99Ms, 1)} ms (${p99ok ? 'ok' : margin(run.p99Ms, bare.p99Ms, false)})`
          : ''),
    });
  };
  ratioTarget(
    'iris-on',
    'iris/batch-on',
    2,
    true,
    'iris, batching on: ≥ 2.0× bare req/s, p99 ≤ bare',
  );
  ratioTarget('iris-off', 'iris/batch-off', 1.1, false, 'iris, batching off: ≥ 1.1× bare req/s');
  ratioTarget('heavy', 'heavy/modelgate', 1.5, true, 'heavy model: ≥ 1.5× bare req/s, p99 ≤ bare');

  const flipRatio = flips.during.p99Ms / steadyP99(flips);
  const failed =
    flips.during.non2xx + flips.during.errors + flips.during.timeouts + flips.flipsFailed;
  targets.push({
    id: 'flips',
    description: `${flips.flips} flips under c=64: p99 ≤ 1.5× steady p99, 0 failed requests`,
    pass: flipRatio <= 1.5 && failed === 0,
    detail: `p99 ${fixed(flips.during.p99Ms, 1)} vs ${fixed(steadyP99(flips), 1)} ms steady (${fixed(flips.steady.p99Ms, 1)} before, ${fixed(flips.steadyAfter.p99Ms, 1)} after) = ${flipRatio.toFixed(2)}×; ${failed} failed (requests or flips); slowest flip ${fixed(flips.flipMaxMs, 1)} ms`,
  });

  const rss = servers
    .filter((server) => !server.bare && server.model === 'iris')
    .flatMap((server) => server.runs.map((run) => run.rssMaxMb ?? 0));
  if (rss.length > 0) {
    const max = Math.max(...rss);
    targets.push({
      id: 'rss',
      description: `modelgate RSS (bundled models loaded, under load) < ${rssLimitMb} MB`,
      pass: max < rssLimitMb,
      detail: `max ${fixed(max, 0)} MB; ${margin(max, rssLimitMb, false)}`,
    });
  }
  if (logWriter) {
    targets.push({
      id: 'log',
      description: 'prediction log writer ≥ 100,000 rows/s (an event-loop turn per row)',
      pass: logWriter.rowsPerSecond >= 100_000,
      detail: `${fixed(logWriter.rowsPerSecond, 0)} rows/s; ${margin(logWriter.rowsPerSecond, 100_000)} (tight loop ${fixed(logWriter.tightLoopRowsPerSecond, 0)} rows/s)`,
    });
  }
  return targets;
}

function renderTable(headers: string[], rows: string[][], markdown: boolean): string {
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
  }
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function resultsTable(result: BenchResult, markdown: boolean): string {
  const headers = [
    'server / config',
    'conc.',
    'req/s',
    'p50 ms',
    'p99 ms',
    '× bare',
    'CPU µs/req',
    'RSS MB',
    'log queue max',
    'rows logged',
  ];
  const rows = result.servers.flatMap((server) =>
    server.runs.map((run) => {
      const base = runAt(bareOf(result.servers, server), run.connections);
      return [
        server.label,
        String(run.connections),
        fixed(run.rps, 0),
        fixed(run.p50Ms, 2),
        fixed(run.p99Ms, 2),
        base ? fixed(run.rps / base.rps, 2) : '–',
        fixed(run.cpuUsPerRequest, 0),
        fixed(run.rssMaxMb, 0),
        fixed(run.queueDepthMax, 0),
        run.rowsWritten === null ? '–' : `${run.rowsWritten}${run.problem ? ' (!)' : ''}`,
      ];
    }),
  );
  return renderTable(headers, rows, markdown);
}

const loadText = (result: BenchResult) =>
  `${result.loadAverage.start.toFixed(1)} at start, ${result.loadAverage.end.toFixed(1)} at end`;
const n = (value: number) => Math.round(value).toLocaleString('en');
const flipsLine = (flips: FlipResult) =>
  `${flips.flips} flips under c=64 on iris: p99 ${flips.during.p99Ms.toFixed(2)} ms during the flips vs ` +
  `${steadyP99(flips).toFixed(2)} ms steady (mean of ${flips.steady.p99Ms.toFixed(2)} right before and ${flips.steadyAfter.p99Ms.toFixed(2)} right after; ` +
  `req/s ${flips.during.rps.toFixed(0)} during vs ${flips.steady.rps.toFixed(0)} and ${flips.steadyAfter.rps.toFixed(0)}); ` +
  `${flips.during.non2xx + flips.during.errors + flips.during.timeouts} failed requests, ` +
  `${flips.flipsFailed} failed flips, slowest flip ${flips.flipMaxMs.toFixed(1)} ms`;
/** Issue 20 (3): the heavy model's two ways to use both cores, side by side at c=64. */
function placementLine(servers: ServerResult[]): string | null {
  const at64 = (id: string) =>
    runAt(
      servers.find((server) => server.id === id),
      64,
    );
  const worker = at64('heavy/modelgate');
  const intraOp = at64('heavy/intra-op-2');
  if (!worker || !intraOp) return null;
  const winner = worker.rps >= intraOp.rps ? 'the worker thread' : '2 intra-op threads inline';
  return (
    `heavy model at c=64, both cores: worker thread ${runSummary(worker)} vs inline with 2 intra-op threads ${runSummary(intraOp)}; ` +
    `worker/intra-op ${(worker.rps / intraOp.rps).toFixed(2)}× req/s: ${winner} wins`
  );
}
const runSummary = (run: ServerRun) =>
  `${run.rps.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.cpuUsPerRequest.toFixed(0)} µs CPU/req`;

export const logWriterLine = (log: LogWriterResult) =>
  `prediction log writer: ${n(log.rows)} rows appended one at a time, an event-loop turn after each, ` +
  `in ${log.seconds.toFixed(2)} s = ${n(log.rowsPerSecond)} rows/s ` +
  `(${n(log.rowsPerCpuSecond)} rows per CPU-second = ${(1e6 / log.rowsPerCpuSecond).toFixed(2)} µs CPU per row; max queue ${log.maxQueueDepth}; ` +
  `${n(log.rowsInFile)} rows in the file); tight loop without turns: ${n(log.tightLoopRowsPerSecond)} rows/s`;

export function textReport(result: BenchResult): string {
  const out = [
    `modelgate bench ${result.date} · ${result.machine.cores} cores · ${result.machine.cpu} · Node ${result.machine.node} · ${result.durationS} s per run · load from ${result.loadGenerator} · load average ${loadText(result)}`,
    '',
    resultsTable(result, false),
    '',
    ...(placementLine(result.servers) ? [placementLine(result.servers) as string, ''] : []),
    flipsLine(result.flips),
    '',
    protocolsLine(result.protocols),
    ...(result.logWriter ? ['', logWriterLine(result.logWriter)] : []),
    ...(result.compare ? ['', ...result.compare.lines] : []),
    '',
    'targets:',
    ...result.targets.map(
      (t) => `  ${t.pass ? 'PASS' : 'MISS'}  (${t.id}) ${t.description}: ${t.detail}`,
    ),
  ];
  if (result.problems.length > 0) {
    out.push('', '!!! PROBLEMS — the numbers above are not clean:');
    for (const problem of result.problems) out.push(`!!!   ${problem}`);
  }
  return out.join('\n');
}

export const BEGIN = '<!-- bench:begin (npm run bench -- --write replaces this block) -->';
export const END = '<!-- bench:end -->';

export function markdownBlock(result: BenchResult): string {
  const lines = [
    BEGIN,
    `## Latest run: ${result.date}`,
    '',
    `- Machine: ${result.machine.cores} cores (\`nproc\`), ${result.machine.cpu}, ${result.machine.platform}`,
    `- Node ${result.machine.node}; 1-minute load average ${loadText(result)} (shared machine)`,
    `- Command: \`${result.command}\` (${result.durationS} s per run, 1 s warm-up per server, servers one after another); load from ${result.loadGenerator}`,
    '',
    resultsTable(result, true),
    '',
    ...(placementLine(result.servers) ? [`- ${placementLine(result.servers)}.`] : []),
    `- ${flipsLine(result.flips)}.`,
    `- ${protocolsLine(result.protocols)}.`,
    ...(result.logWriter ? [`- ${logWriterLine(result.logWriter)}.`] : []),
    ...(result.compare ? ['', ...result.compare.lines.map((line) => `- ${line}`)] : []),
    '',
    '### Targets (issue 20, c=64, one run)',
    '',
    ...result.targets.map(
      (t) => `- **${t.pass ? 'PASS' : 'MISS'}** (${t.id}) ${t.description}: ${t.detail}`,
    ),
    '',
    result.problems.length > 0
      ? `**Problems in this run:** ${result.problems.join('; ')}`
      : 'No errors, no non-2xx responses, and every modelgate run logged one row per answered request.',
    '',
    '### Reading the table',
    '',
    '- `bare`: Hono + @hono/node-server + one ONNX Runtime run per request (scripts/bench/bare-server.ts), nothing else; `× bare` compares with the bare handler of the same model at the same concurrency.',
    '- `iris`: the bundled iris v1 (~12 µs a run: the figures measure HTTP, routing and the log). `heavy`: a seeded MLP 30→2048→2048→10 generated at bench time (scripts/bench/heavy-model.ts, ~0.5 ms a single-row run).',
    '- `modelgate (defaults)`: `node dist/main.js` (the build, as `npm start` runs it) with no settings: batching on (one event-loop turn) and `MODELGATE_INFERENCE_WORKER=auto` (the heavy model runs on a worker thread, iris inline). `batch off`: `MODELGATE_BATCH_WINDOW_US=0`. `worker off`: `MODELGATE_INFERENCE_WORKER=off`. `inline, 2 intra-op threads`: `MODELGATE_INFERENCE_WORKER=off MODELGATE_INTRA_OP_THREADS=2`.',
    "- wrk: req/s is requests over wrk's measured duration; p50/p99 from wrk's latency histogram. autocannon (fallback): mean of per-second samples, p50/p99 over every 2xx.",
    '- RSS is the max VmRSS of the server process sampled every 250 ms; log queue max is the max of `modelgate_prediction_log_queue_depth` scraped every 250 ms; rows logged is the growth of `modelgate_prediction_log_rows_written_total` over the run (checked to lie between the 2xx count and the requests sent: requests cut off when the load stops are still answered and logged).',
    '- The load generator shares the 2 cores with the server; compare ratios within one run.',
    END,
  ];
  return lines.join('\n');
}

/** Replaces the generated block of BENCHMARKS.md, keeping the hand-written analysis around it. */
export function updateBenchmarksMd(existing: string | null, result: BenchResult): string {
  const block = markdownBlock(result);
  if (existing) {
    const begin = existing.indexOf(BEGIN);
    const end = existing.indexOf(END);
    if (begin !== -1 && end > begin) {
      return existing.slice(0, begin) + block + existing.slice(end + END.length);
    }
    return `${existing.trimEnd()}\n\n${block}\n`;
  }
  return `# Benchmarks\n\n\`npm run bench\` (scripts/bench/) — see issue 7 for the targets.\n\n${block}\n`;
}
