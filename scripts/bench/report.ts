import type { CompareBenchResult } from './compare-bench.js';
import type { LoadResult } from './load.js';
import type { LogWriterResult } from './log-writer.js';

export type ServerKey = 'bare' | 'batch-off' | 'batch-on';

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
  key: ServerKey;
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
  durationS: number;
  servers: ServerResult[];
  logWriter: LogWriterResult;
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

export function evaluateTargets(
  servers: ServerResult[],
  logWriter: LogWriterResult,
  rssLimitMb = 300,
): Target[] {
  const find = (key: ServerKey) => servers.find((server) => server.key === key);
  const bare = runAt(find('bare'), 64);
  const off = runAt(find('batch-off'), 64);
  const on = runAt(find('batch-on'), 64);
  const targets: Target[] = [];

  if (bare && off) {
    const ratio = off.rps / bare.rps;
    targets.push({
      id: 'i',
      description: 'batching off, c=64: modelgate ≥ 0.9× bare req/s',
      pass: ratio >= 0.9,
      detail: `${ratio.toFixed(2)}× (${fixed(off.rps, 0)} vs ${fixed(bare.rps, 0)} req/s); ${margin(ratio, 0.9)}`,
    });
  }
  if (bare && on) {
    const ratio = on.rps / bare.rps;
    const p99ok = on.p99Ms <= bare.p99Ms;
    targets.push({
      id: 'ii',
      description: 'batching on, c=64: ≥ 2× bare req/s and p99 ≤ bare p99',
      pass: ratio >= 2 && p99ok,
      detail:
        `${ratio.toFixed(2)}× (${fixed(on.rps, 0)} vs ${fixed(bare.rps, 0)} req/s; ${margin(ratio, 2)}); ` +
        `p99 ${fixed(on.p99Ms, 1)} vs ${fixed(bare.p99Ms, 1)} ms (${p99ok ? 'ok' : margin(on.p99Ms, bare.p99Ms, false)})`,
    });
  }
  const rss = servers
    .filter((server) => server.key !== 'bare')
    .flatMap((server) => server.runs.map((run) => run.rssMaxMb ?? 0));
  if (rss.length > 0) {
    const max = Math.max(...rss);
    targets.push({
      id: 'iii',
      description: `modelgate RSS (3 models loaded, under load) < ${rssLimitMb} MB`,
      pass: max < rssLimitMb,
      detail: `max ${fixed(max, 0)} MB; ${margin(max, rssLimitMb, false)}`,
    });
  }
  targets.push({
    id: 'iv',
    description: 'prediction log writer ≥ 100,000 rows/s',
    pass: logWriter.rowsPerSecond >= 100_000,
    detail: `${fixed(logWriter.rowsPerSecond, 0)} rows/s; ${margin(logWriter.rowsPerSecond, 100_000)} (tight loop ${fixed(logWriter.tightLoopRowsPerSecond, 0)} rows/s)`,
  });
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
  const bare = result.servers.find((server) => server.key === 'bare');
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
      const base = runAt(bare, run.connections);
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
const logWriterLine = (log: LogWriterResult) =>
  `prediction log writer: ${n(log.rows)} rows appended one at a time, an event-loop turn after each, ` +
  `in ${log.seconds.toFixed(2)} s = ${n(log.rowsPerSecond)} rows/s ` +
  `(${n(log.rowsPerCpuSecond)} rows per CPU-second; max queue ${log.maxQueueDepth}; ` +
  `${n(log.rowsInFile)} rows in the file); tight loop without turns: ${n(log.tightLoopRowsPerSecond)} rows/s`;

export function textReport(result: BenchResult): string {
  const out = [
    `modelgate bench ${result.date} · ${result.machine.cores} cores · ${result.machine.cpu} · Node ${result.machine.node} · ${result.durationS} s per run · load average ${loadText(result)}`,
    '',
    resultsTable(result, false),
    '',
    logWriterLine(result.logWriter),
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
    `- Command: \`${result.command}\` (${result.durationS} s per run, 1 s warm-up per server, servers one after another)`,
    '',
    resultsTable(result, true),
    '',
    `${logWriterLine(result.logWriter)}.`,
    ...(result.compare ? ['', ...result.compare.lines.map((line) => `- ${line}`)] : []),
    '',
    '### Targets (issue 7)',
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
    '- `bare`: Hono + @hono/node-server + one ONNX Runtime run per request (scripts/bench/bare-server.ts), nothing else.',
    '- `modelgate batch off` / `batch on`: `node --import tsx src/main.ts`, all bundled models loaded, prediction log on, `POST /predict/iris` (live v1); batch on is the default 500 µs window (one event-loop turn).',
    "- req/s is the mean of autocannon's per-second samples; p50/p99 are client-side latency; `× bare` is req/s divided by bare at the same concurrency.",
    '- RSS is the max VmRSS of the server process sampled every 250 ms; log queue max is the max of `modelgate_prediction_log_queue_depth` scraped every 250 ms; rows logged is the growth of `modelgate_prediction_log_rows_written_total` over the run (checked to lie between the 2xx count and the requests sent: requests cut off when autocannon stops are still answered and logged).',
    "- autocannon runs in the bench process on the same 2 cores as the server, so absolute numbers are lower than wrk's in NOTES.md; compare ratios within one run.",
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
