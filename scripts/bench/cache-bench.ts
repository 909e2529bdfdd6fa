import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '../examples/prng.js';
import { drive, type LoadResult } from './load.js';
import { cpuSeconds, startServer } from './servers.js';

/** Distinct iris-like rows the workload repeats: a small catalogue asked for again and again. */
const DISTINCT_ROWS = 200;
const CONNECTIONS = 64;

function repeatingBodies(): string[] {
  const random = createRandom(18);
  const around = (centre: number) => Math.round((centre + (random() - 0.5) * 2) * 10) / 10;
  return Array.from({ length: DISTINCT_ROWS }, () =>
    JSON.stringify({
      inputs: {
        sepal_length: around(5.8),
        sepal_width: around(3.0),
        petal_length: around(3.8),
        petal_width: Math.abs(around(1.2)),
      },
    }),
  );
}

const sampleOf = (text: string, name: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);

/**
 * The prediction cache on a repeating workload: the same gateway (batching on) with
 * MODELGATE_CACHE_ROWS unset and then 10,000, driven at c=64 by bodies cycling over 200
 * distinct rows; req/s, p99 and the hit rate from /metrics.
 */
export async function benchCache(durationS: number, progress: (line: string) => void) {
  const bodies = repeatingBodies();
  const lines: string[] = [];
  const runs: Array<{ label: string; load: LoadResult; cpuUs: number; hitRate: number | null }> =
    [];
  for (const cacheRows of [0, 10_000]) {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-cache-bench-'));
    const label = cacheRows === 0 ? 'cache off' : `MODELGATE_CACHE_ROWS=${cacheRows}`;
    progress(`prediction cache: ${label}`);
    const server = await startServer({
      name: label,
      script: 'src/main.ts',
      env: {
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MODELGATE_CONTROL_TOKEN: 'bench-token-not-secret',
        MODELGATE_DB: join(dir, 'bench.db'),
        MODELGATE_CACHE_ROWS: String(cacheRows),
      },
      readyPath: '/v2/health/ready',
    });
    try {
      const url = `${server.url}/predict/iris`;
      // Every row asked once, one at a time: the measured run starts from a warm cache
      // (64 connections in step would otherwise all miss each row together on the first pass).
      for (const body of bodies) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (res.status !== 200) throw new Error(`${label}: warm-up answered ${res.status}`);
      }
      const counters = async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        return {
          hits: sampleOf(text, 'modelgate_prediction_cache_hits_total'),
          misses: sampleOf(text, 'modelgate_prediction_cache_misses_total'),
        };
      };
      const before = await counters();
      const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
      const load = await drive(url, CONNECTIONS, durationS, bodies);
      const cpuUs = (((cpuSeconds(server.pid) ?? Number.NaN) - cpuBefore) * 1e6) / load.ok2xx;
      const after = await counters();
      const hits = after.hits - before.hits;
      const misses = after.misses - before.misses;
      runs.push({ label, load, cpuUs, hitRate: hits + misses > 0 ? hits / (hits + misses) : null });
      if (load.non2xx > 0 || load.errors > 0) {
        throw new Error(`${label}: ${load.non2xx} non-2xx, ${load.errors} errors`);
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const { label, load, cpuUs, hitRate } of runs) {
    lines.push(
      `prediction cache, ${DISTINCT_ROWS} distinct rows repeated, c=${CONNECTIONS}, ${label}: ${load.rps.toFixed(0)} req/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms, server CPU ${cpuUs.toFixed(0)} µs/request` +
        (hitRate === null ? '' : `, hit rate ${(hitRate * 100).toFixed(1)} %`),
    );
  }
  return lines;
}
