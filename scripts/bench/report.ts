import type { CompareBenchResult } from './compare-bench.js';
import { type FlipResult, steadyP99 } from './flips.js';
import type { LoadResult } from './load.js';
import type { LogWriterResult } from './log-writer.js';
import { type ProtocolComparison, protocolsLine } from './protocols.js';
import {
  floorShares,
  type RoundSummary,
  type RoundsResult,
  roundRatio,
  type Spread,
  summarizeRounds,
} from './rounds.js';
import type { ModelKey, ServerKind } from './scenarios.js';

export interface ServerRun extends LoadResult {
  /** Max VmRSS of the server process sampled every 250 ms during the run. */
  rssMaxMb: number | null;
  /** Server CPU time (user + system, from /proc/<pid>/stat) per 2xx response: robust to a noisy machine. NaN off Linux. */
  cpuUsPerRequest: number;
  /** The user part: JavaScript, ONNX Runtime, SQLite. NaN off Linux. */
  cpuUserUsPerRequest: number;
  /** The system part: socket reads and writes, epoll, the log's file writes. NaN off Linux. */
  cpuSystemUsPerRequest: number;
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
  /** `bare` is the handler the other servers of the same model are compared with. */
  kind: ServerKind;
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
  /** Single runs: c=1 and 16 for every server, and c=64 for those not in the rounds. */
  servers: ServerResult[];
  /** The c=64 interleaved rounds. */
  rounds: RoundsResult | null;
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
  servers.find((candidate) => candidate.kind === 'bare' && candidate.model === server?.model);

/** "× bare" for one server at one concurrency, with its p99 check; undefined when either is missing. */
function againstBare(servers: ServerResult[], id: string, connections: number) {
  const server = servers.find((candidate) => candidate.id === id);
  const run = runAt(server, connections);
  const bare = runAt(bareOf(servers, server), connections);
  if (!run || !bare) return undefined;
  return { run, bare, ratio: run.rps / bare.rps, p99ok: run.p99Ms <= bare.p99Ms };
}

interface RatioGoal {
  id: string;
  server: string;
  goal: number;
  /** The target also asks for p99 ≤ bare's. */
  p99: boolean;
  description: string;
}

const RATIO_GOALS: RatioGoal[] = [
  {
    id: 'iris-on',
    server: 'iris/batch-on',
    goal: 2,
    p99: true,
    description: 'iris, batching on: ≥ 2.0× bare req/s, p99 ≤ bare',
  },
  {
    id: 'iris-off',
    server: 'iris/batch-off',
    goal: 1.1,
    p99: false,
    description: 'iris, batching off: ≥ 1.1× bare req/s',
  },
  {
    id: 'heavy',
    server: 'heavy/modelgate',
    goal: 1.5,
    p99: true,
    description: 'heavy model: ≥ 1.5× bare req/s, p99 ≤ bare',
  },
];

const ratioSpread = (s: Spread) =>
  `${fixed(s.median, 2)}× (min ${fixed(s.min, 2)}×, max ${fixed(s.max, 2)}×)`;

/** A goal judged on the median of the per-round ratios; undefined if the server or its bare did not run in the rounds. */
function fromRounds(goal: RatioGoal, summaries: RoundSummary[]): Target | undefined {
  const summary = summaries.find((candidate) => candidate.id === goal.server);
  const bare = summaries.find(
    (candidate) => candidate.kind === 'bare' && candidate.model === summary?.model,
  );
  if (!summary?.ratio || summary.p99Ratio === null || !bare) return undefined;
  const { ratio, p99Ratio } = summary;
  const p99ok = p99Ratio <= 1;
  return {
    id: goal.id,
    description: goal.description,
    pass: ratio.median >= goal.goal && (!goal.p99 || p99ok),
    detail:
      `median of ${summary.rounds} per-round ratios ${ratioSpread(ratio)}; ${margin(ratio.median, goal.goal)} ` +
      `(median req/s ${fixed(summary.rps.median, 0)} vs ${fixed(bare.rps.median, 0)})` +
      (goal.p99
        ? `; p99 median ${fixed(summary.p99Ms, 1)} vs ${fixed(bare.p99Ms, 1)} ms, median per-round p99 ratio ${fixed(p99Ratio, 2)}× (${p99ok ? 'ok' : margin(p99Ratio, 1, false)})`
        : ''),
  };
}

/** A goal judged on one c=64 run of each; undefined if either did not run. */
function fromSingleRuns(goal: RatioGoal, servers: ServerResult[]): Target | undefined {
  const found = againstBare(servers, goal.server, 64);
  if (!found) return undefined;
  const { run, bare, ratio, p99ok } = found;
  return {
    id: goal.id,
    description: goal.description,
    pass: ratio >= goal.goal && (!goal.p99 || p99ok),
    detail:
      `one run ${ratio.toFixed(2)}× (${fixed(run.rps, 0)} vs ${fixed(bare.rps, 0)} req/s; ${margin(ratio, goal.goal)})` +
      (goal.p99
        ? `; p99 ${fixed(run.p99Ms, 1)} vs ${fixed(bare.p99Ms, 1)} ms (${p99ok ? 'ok' : margin(run.p99Ms, bare.p99Ms, false)})`
        : ''),
  };
}

/**
 * Issue 20's req/s targets at c=64: from the rounds for a server that ran in them (the median
 * of its per-round ratios to bare), else from its single c=64 run.
 */
export function ratioTargets(servers: ServerResult[], rounds: RoundsResult | null): Target[] {
  const summaries = rounds ? summarizeRounds(rounds) : [];
  return RATIO_GOALS.flatMap((goal) => {
    const target = fromRounds(goal, summaries) ?? fromSingleRuns(goal, servers);
    return target ? [target] : [];
  });
}

/** Issue 20's targets, all at c=64. */
export function evaluateTargets(
  servers: ServerResult[],
  rounds: RoundsResult | null,
  flips: FlipResult,
  logWriter: LogWriterResult | null,
  rssLimitMb = 300,
): Target[] {
  const targets = ratioTargets(servers, rounds);

  const flipRatio = flips.during.p99Ms / steadyP99(flips);
  const failed =
    flips.during.non2xx + flips.during.errors + flips.during.timeouts + flips.flipsFailed;
  targets.push({
    id: 'flips',
    description: `${flips.flips} flips under c=64: p99 ≤ 1.5× steady p99, 0 failed requests`,
    pass: flipRatio <= 1.5 && failed === 0,
    detail: `p99 ${fixed(flips.during.p99Ms, 1)} vs ${fixed(steadyP99(flips), 1)} ms steady (${fixed(flips.steady.p99Ms, 1)} before, ${fixed(flips.steadyAfter.p99Ms, 1)} after) = ${flipRatio.toFixed(2)}×; ${failed} failed (requests or flips); slowest flip ${fixed(flips.flipMaxMs, 1)} ms`,
  });

  const rss = [...servers, ...(rounds?.servers ?? [])]
    .filter((server) => server.kind === 'modelgate' && server.model === 'iris')
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
    'user µs/req',
    'sys µs/req',
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
        fixed(run.cpuUserUsPerRequest, 0),
        fixed(run.cpuSystemUsPerRequest, 0),
        fixed(run.rssMaxMb, 0),
        fixed(run.queueDepthMax, 0),
        run.rowsWritten === null ? '–' : `${run.rowsWritten}${run.problem ? ' (!)' : ''}`,
      ];
    }),
  );
  return renderTable(headers, rows, markdown);
}

const roundsHeading = (rounds: RoundsResult) =>
  `c=${rounds.connections} in ${rounds.rounds} interleaved rounds of ${rounds.durationS} s per server ` +
  `(every server once a round, in an order balanced so each server follows each other equally often; servers started once, idle between their runs): ` +
  `medians over the rounds; × bare is the median of each round's req/s over the same round's bare req/s`;

const rangeText = (s: Spread, digits: number) => `${fixed(s.min, digits)}–${fixed(s.max, digits)}`;

export function roundsTable(rounds: RoundsResult, markdown: boolean): string {
  const headers = [
    'server / config',
    'req/s',
    'req/s min–max',
    'p50 ms',
    'p99 ms',
    '× bare',
    '× bare min–max',
    'p99 × bare',
    'CPU µs/req',
    'user µs/req',
    'sys µs/req',
    'rows logged',
  ];
  const rows = summarizeRounds(rounds).map((summary) => [
    summary.label,
    fixed(summary.rps.median, 0),
    rangeText(summary.rps, 0),
    fixed(summary.p50Ms, 2),
    fixed(summary.p99Ms, 2),
    summary.ratio ? fixed(summary.ratio.median, 2) : '–',
    summary.ratio ? rangeText(summary.ratio, 2) : '–',
    fixed(summary.p99Ratio, 2),
    fixed(summary.cpuUsPerRequest, 0),
    fixed(summary.cpuUserUsPerRequest, 0),
    fixed(summary.cpuSystemUsPerRequest, 0),
    summary.rowsWritten === null
      ? '–'
      : `${summary.rowsWritten}${summary.problems.length > 0 ? ' (!)' : ''}`,
  ]);
  return renderTable(headers, rows, markdown);
}

const percent = (share: number) => `${fixed(share * 100, 0)} %`;

/** What share of each server's CPU per request is HTTP itself; null without a floor in the rounds. */
export function floorLine(rounds: RoundsResult): string | null {
  const floor = summarizeRounds(rounds).find((summary) => summary.kind === 'floor');
  const shares = floorShares(rounds);
  if (!floor || shares.length === 0) return null;
  return (
    `HTTP floor, ${floor.label} (Hono reading the body and answering a fixed JSON): ` +
    `${fixed(floor.cpuUsPerRequest, 0)} µs CPU per request (user ${fixed(floor.cpuUserUsPerRequest, 0)}, sys ${fixed(floor.cpuSystemUsPerRequest, 0)}), ` +
    `${fixed(floor.rps.median, 0)} req/s; as a share of each server's CPU per request, median of the rounds: ` +
    shares
      .map(
        ({ label, share }) =>
          `${label} ${percent(share.median)} (${percent(share.min)}–${percent(share.max)})`,
      )
      .join(', ')
  );
}

/** The rounds' heading, table and floor line (`--only ratios` adds the ratio targets). */
export function roundsReport(rounds: RoundsResult, markdown: boolean): string[] {
  const floor = floorLine(rounds);
  return [
    markdown ? `${roundsHeading(rounds)}:` : roundsHeading(rounds),
    '',
    roundsTable(rounds, markdown),
    ...(floor ? ['', markdown ? `- ${floor}.` : floor] : []),
  ];
}

export const targetLine = (t: Target, markdown: boolean) =>
  markdown
    ? `- **${t.pass ? 'PASS' : 'MISS'}** (${t.id}) ${t.description}: ${t.detail}`
    : `  ${t.pass ? 'PASS' : 'MISS'}  (${t.id}) ${t.description}: ${t.detail}`;

const loadText = (result: BenchResult) =>
  `${result.loadAverage.start.toFixed(1)} at start, ${result.loadAverage.end.toFixed(1)} at end`;
const n = (value: number) => Math.round(value).toLocaleString('en');
const flipsLine = (flips: FlipResult) =>
  `${flips.flips} flips under c=64 on iris: p99 ${flips.during.p99Ms.toFixed(2)} ms during the flips vs ` +
  `${steadyP99(flips).toFixed(2)} ms steady (mean of ${flips.steady.p99Ms.toFixed(2)} right before and ${flips.steadyAfter.p99Ms.toFixed(2)} right after; ` +
  `req/s ${flips.during.rps.toFixed(0)} during vs ${flips.steady.rps.toFixed(0)} and ${flips.steadyAfter.rps.toFixed(0)}); ` +
  `${flips.during.non2xx + flips.during.errors + flips.during.timeouts} failed requests, ` +
  `${flips.flipsFailed} failed flips, slowest flip ${flips.flipMaxMs.toFixed(1)} ms`;
const WORKER = 'heavy/modelgate';
const INTRA_OP = 'heavy/intra-op-2';

const placementText = (
  worker: string,
  intraOp: string,
  ratio: number,
  ratioText: string,
  where: string,
) =>
  `heavy model at c=64, both cores, ${where}: worker thread ${worker} vs inline with 2 intra-op threads ${intraOp}; ` +
  `worker/intra-op req/s ${ratioText}: ${ratio >= 1 ? 'the worker thread' : '2 intra-op threads inline'} wins`;

const figures = (rps: number, p99Ms: number, cpuUsPerRequest: number) =>
  `${fixed(rps, 0)} req/s, p99 ${fixed(p99Ms, 1)} ms, ${fixed(cpuUsPerRequest, 0)} µs CPU/req`;

/**
 * Issue 20 (3): the heavy model's two ways to use both cores, side by side at c=64: from the
 * rounds when both ran in them (medians, and the median of the per-round ratio), else from one
 * single run of each; null when either is missing from both, so a median over the rounds is
 * never set beside a single run.
 */
export function placementLine(servers: ServerResult[], rounds: RoundsResult | null): string | null {
  const ratio = rounds ? roundRatio(rounds, WORKER, INTRA_OP) : null;
  if (rounds && ratio) {
    const summaries = summarizeRounds(rounds);
    const worker = summaries.find((summary) => summary.id === WORKER);
    const intraOp = summaries.find((summary) => summary.id === INTRA_OP);
    if (!worker || !intraOp) return null;
    const of = (s: RoundSummary) => figures(s.rps.median, s.p99Ms, s.cpuUsPerRequest);
    return placementText(
      of(worker),
      of(intraOp),
      ratio.median,
      `median of ${rounds.rounds} per-round ratios ${ratioSpread(ratio)}`,
      `medians of the same ${rounds.rounds} rounds`,
    );
  }
  const worker = runAt(
    servers.find((server) => server.id === WORKER),
    64,
  );
  const intraOp = runAt(
    servers.find((server) => server.id === INTRA_OP),
    64,
  );
  if (!worker || !intraOp) return null;
  const of = (run: ServerRun) => figures(run.rps, run.p99Ms, run.cpuUsPerRequest);
  return placementText(
    of(worker),
    of(intraOp),
    worker.rps / intraOp.rps,
    `${(worker.rps / intraOp.rps).toFixed(2)}×`,
    'one run each',
  );
}

export const logWriterLine = (log: LogWriterResult) =>
  `prediction log writer (${log.writer}): ${n(log.rows)} rows appended one at a time, an event-loop turn after each, ` +
  `in ${log.seconds.toFixed(2)} s = ${n(log.rowsPerSecond)} rows/s ` +
  `(${n(log.rowsPerCpuSecond)} rows per CPU-second = ${(1e6 / log.rowsPerCpuSecond).toFixed(2)} µs CPU per row, ` +
  `${log.mainThreadCpuUsPerRow.toFixed(2)} µs of it on the main thread; max queue ${log.maxQueueDepth}; ` +
  `${n(log.rowsInFile)} rows in the file); tight loop without turns: ${n(log.tightLoopRowsPerSecond)} rows/s`;

export function textReport(result: BenchResult): string {
  const placement = placementLine(result.servers, result.rounds);
  const out = [
    `modelgate bench ${result.date} · ${result.machine.cores} cores · ${result.machine.cpu} · Node ${result.machine.node} · ${result.durationS} s per run · load from ${result.loadGenerator} · load average ${loadText(result)}`,
    '',
    resultsTable(result, false),
    '',
    ...(result.rounds ? [...roundsReport(result.rounds, false), ''] : []),
    ...(placement ? [placement, ''] : []),
    flipsLine(result.flips),
    '',
    protocolsLine(result.protocols),
    ...(result.logWriter ? ['', logWriterLine(result.logWriter)] : []),
    ...(result.compare ? ['', ...result.compare.lines] : []),
    '',
    'targets:',
    ...result.targets.map((t) => targetLine(t, false)),
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
  const placement = placementLine(result.servers, result.rounds);
  const lines = [
    BEGIN,
    `## Latest run: ${result.date}`,
    '',
    `- Machine: ${result.machine.cores} cores (\`nproc\`), ${result.machine.cpu}, ${result.machine.platform}`,
    `- Node ${result.machine.node}; 1-minute load average ${loadText(result)} (shared machine)`,
    `- Command: \`${result.command}\` (${result.durationS} s per run, 1 s warm-up per server; single runs one server after another, then the c=64 rounds); load from ${result.loadGenerator}`,
    '',
    resultsTable(result, true),
    '',
    ...(result.rounds ? [...roundsReport(result.rounds, true), ''] : []),
    ...(placement ? [`- ${placement}.`] : []),
    `- ${flipsLine(result.flips)}.`,
    `- ${protocolsLine(result.protocols)}.`,
    ...(result.logWriter ? [`- ${logWriterLine(result.logWriter)}.`] : []),
    ...(result.compare ? ['', ...result.compare.lines.map((line) => `- ${line}`)] : []),
    '',
    result.rounds
      ? `### Targets (issue 20, c=64; req/s ratios of servers in the rounds: the median of ${result.rounds.rounds} per-round ratios)`
      : '### Targets (issue 20, c=64, one run)',
    '',
    ...result.targets.map((t) => targetLine(t, true)),
    '',
    result.problems.length > 0
      ? `**Problems in this run:** ${result.problems.join('; ')}`
      : 'No errors, no non-2xx responses, and every modelgate run logged one row per answered request.',
    '',
    '### Reading the table',
    '',
    "- `bare`: Hono + @hono/node-server + one ONNX Runtime run per request (scripts/bench/bare-server.ts), nothing else; `× bare` compares with the bare handler of the same model at the same concurrency. `hono floor (no model)`: Hono + @hono/node-server reading the same JSON body and answering a fixed JSON of the same shape (scripts/bench/floor-server.ts): what HTTP itself costs. It reads the body as `bare` does (`c.req.json()`, through a WHATWG Request); modelgate reads bodies off Node's IncomingMessage, so its CPU per request can fall below the floor's.",
    "- Single runs (the first table) go one server after another: c=1 and 16 for every server, c=64 for those not in the rounds. The c=64 comparisons behind the targets (the floor and the iris servers; with `--heavy-rounds` the heavy model's four servers too: a model's c=64 figures come all from the rounds or all from single runs, so no comparison sets a median over the rounds beside a run taken minutes earlier) run in `--rounds` interleaved rounds (the second table): the servers are started once and stay up, idle between their runs, and each round runs every one of them for the same duration. What a server leaves behind (a hot core, garbage, a log still flushing) falls on the next one, so the order is balanced (a Williams design): with an even number of servers, each follows each other once and takes each position once in as many rounds; with an odd number, each order is followed by its reverse, and the same holds twice over twice as many rounds. A round count that is not a whole design (5 rounds of 4 servers) repeats the start of one: a server can follow another once more than the rest. The machine's speed drifts by tens of percent within minutes, so a ratio is taken within a round (that round's req/s, or p99, over the same round's bare) and the table gives the median of the per-round ratios with their min–max, beside each server's medians over the rounds and its rows logged summed over them; the targets are judged on the median per-round ratios. The floor line gives the floor's CPU per request as a share of each server's, the median of the per-round shares. The heavy model's line, worker thread against 2 intra-op threads, takes both sides from the same place: with `--heavy-rounds` their medians and the median of the per-round ratio, else one c=64 run of each.",
    '- `iris`: the bundled iris v1 (~12 µs a run: the figures measure HTTP, routing and the log). `heavy`: a seeded MLP 30→2048→2048→10 generated at bench time (scripts/bench/heavy-model.ts, ~0.5 ms a single-row run).',
    '- `modelgate (defaults)`: `node dist/main.js` (the build, as `npm start` runs it) with no settings: batching on (one event-loop turn) and `MODELGATE_INFERENCE_WORKER=auto` (the heavy model runs on a worker thread, iris inline). `batch off`: `MODELGATE_BATCH_WINDOW_US=0`. `worker off`: `MODELGATE_INFERENCE_WORKER=off`. `inline, 2 intra-op threads`: `MODELGATE_INFERENCE_WORKER=off MODELGATE_INTRA_OP_THREADS=2`.',
    "- wrk: req/s is requests over wrk's measured duration; p50/p99 from wrk's latency histogram. autocannon (fallback): mean of per-second samples, p50/p99 over every 2xx.",
    "- CPU µs/req is the server process's CPU time (utime + stime in /proc/<pid>/stat, read before and after the measured window; 10 ms ticks) over its 2xx answers; `user` is the process's own code (JavaScript, ONNX Runtime, SQLite), `sys` the kernel working for it (socket reads and writes, epoll, the log's file writes); – where there is no /proc. The load generator's CPU is not in it.",
    '- RSS is the max VmRSS of the server process sampled every 250 ms; log queue max is the max of `modelgate_prediction_log_queue_depth` scraped every 250 ms; rows logged is the growth of `modelgate_prediction_log_rows_written_total` over the run (checked to lie between the 2xx count and the requests sent: requests cut off when the load stops are still answered and logged).',
    '- The load generator shares the 2 cores with the server; compare ratios within one round, not across runs.',
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
