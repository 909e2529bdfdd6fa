/**
 * wrk as the load generator: a separate native process, so the gateway is not sharing its
 * event loop with the client as it does with autocannon. A Lua script posts one fixed body
 * and prints wrk's own summary as JSON at the end (its `done` hook), which this module parses.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.js';

const SCRIPT = `
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

interface WrkSummary {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  /** Responses with a status of 400 or more (wrk counts nothing else as a failed status). */
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
}

/** True when a `wrk` binary answers on the PATH. */
export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version prints its usage and exits 1: it is there.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export function parseWrkOutput(stdout: string): WrkSummary {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
  return JSON.parse(line.slice('WRK_RESULT '.length)) as WrkSummary;
}

export async function driveWrk(
  url: string,
  connections: number,
  durationS: number,
  body: string,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-wrk-'));
  try {
    const scriptPath = join(dir, 'post.lua');
    const bodyPath = join(dir, 'body.json');
    writeFileSync(scriptPath, SCRIPT);
    writeFileSync(bodyPath, body);
    // Two client threads at most: the machine this runs on has two cores and the server needs them.
    const threads = Math.min(2, connections);
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        'wrk',
        [
          `-t${threads}`,
          `-c${connections}`,
          `-d${durationS}s`,
          '--timeout',
          '10s',
          '-s',
          scriptPath,
          url,
        ],
        { env: { ...process.env, BENCH_BODY_FILE: bodyPath }, maxBuffer: 1 << 20 },
        (error, out, err) =>
          error ? reject(new Error(`wrk failed: ${err || error}`)) : resolve(out),
      );
    });
    const summary = parseWrkOutput(stdout);
    const seconds = summary.durationUs / 1e6;
    const errors = summary.connect + summary.read + summary.write;
    return {
      connections,
      durationS: seconds,
      rps: summary.requests / seconds,
      p50Ms: summary.p50Us / 1000,
      p99Ms: summary.p99Us / 1000,
      ok2xx: summary.requests - summary.status,
      // wrk counts completed requests; up to one per connection was in flight when it stopped.
      sent: summary.requests + connections,
      non2xx: summary.status,
      errors,
      timeouts: summary.timeout,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
