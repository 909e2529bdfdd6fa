/**
 * A replay beside live traffic: iris at c=16 for one period with nothing else running, then
 * a second period while a replay (POST /control/replay, candidate v2, at the default
 * MODELGATE_REPLAY_MAX_ROWS_PER_S) runs over the rows the first period logged. Live p50 and
 * p99 side by side, twice; the target is p99 with the replay within 20 % of p99 without it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.js';
import { CONTROL_TOKEN } from './scenarios.js';
import { startServer } from './servers.js';

type Drive = (
  url: string,
  connections: number,
  durationS: number,
  body: string,
) => Promise<LoadResult>;

const CONNECTIONS = 16;
/** The target: live p99 during a replay at most this much above it without one. */
const MAX_P99_RATIO = 1.2;
/** Without / with, twice: on a shared machine one pair alone says little. */
const ROUNDS = 2;

const row = (label: string, load: LoadResult) =>
  `  ${label.padEnd(16)} ${load.rps.toFixed(0).padStart(7)} req/s  p50 ${load.p50Ms.toFixed(2).padStart(6)} ms  p99 ${load.p99Ms.toFixed(2).padStart(6)} ms  ${load.non2xx + load.errors} failed`;

interface ReplayJob {
  id: string;
  status: string;
  progress: { rows: number; total: number | null };
  rate: { maxRowsPerS: number; rowsPerS: number | null };
}

async function control(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`replay bench: ${method} ${path} answered ${res.status}`);
  return (await res.json()) as ReplayJob;
}

export async function benchReplay(
  drive: Drive,
  body: string,
  durationS: number,
  progress: (line: string) => void,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-replay-bench-'));
  const server = await startServer({
    name: 'replay beside load',
    script: 'src/main.ts',
    env: {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODELGATE_CONTROL_TOKEN: CONTROL_TOKEN,
      MODELGATE_DB: join(dir, 'bench.db'),
    },
    readyPath: '/v2/health/ready',
  });
  try {
    const url = `${server.url}/predict/iris`;
    await drive(url, CONNECTIONS, 1, body);
    const lines = [
      `replay beside live traffic (iris, c=${CONNECTIONS}, ${durationS} s a period, ${ROUNDS} rounds of without / with)`,
    ];
    for (let round = 1; round <= ROUNDS; round++) {
      const since = Date.now();
      progress(`replay bench ${round}/${ROUNDS}: c=${CONNECTIONS} on iris, no replay`);
      const without = await drive(url, CONNECTIONS, durationS, body);
      // The rows just served are what the replay reads while the next period is served.
      const started = await control(server.url, 'POST', '/control/replay', {
        model: 'iris',
        candidate: 'v2',
        since,
      });
      progress(
        `replay bench ${round}/${ROUNDS}: c=${CONNECTIONS} on iris, replay running beside it`,
      );
      const withReplay = await drive(url, CONNECTIONS, durationS, body);
      const job = await control(server.url, 'GET', `/control/replay/${started.id}`);
      const ranThroughout = job.status === 'running' || job.status === 'queued';
      if (ranThroughout) await control(server.url, 'DELETE', `/control/replay/${started.id}`);
      const ratio = withReplay.p99Ms / without.p99Ms;
      lines.push(
        row(`${round}: without`, without),
        row(`${round}: with replay`, withReplay),
        `  replay: ${job.progress.rows} of ${job.progress.total ?? '?'} rows at ${job.rate.rowsPerS?.toFixed(0) ?? '–'} rows/s (bound ${job.rate.maxRowsPerS}), ${ranThroughout ? 'running throughout (cancelled after)' : `${job.status} before the load ended: part of the period ran without it`}`,
        `  p99 with / without: ${ratio.toFixed(2)} (target ≤ ${MAX_P99_RATIO}: ${ratio <= MAX_P99_RATIO ? 'met' : 'NOT met'})`,
      );
    }
    return lines;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
