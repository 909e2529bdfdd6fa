/**
 * Control changes under load: c=64 on iris for one period at steady state, one more with 50
 * flips of live and standby spread evenly over it, then one more at steady state. A flip swaps
 * which version answers in one step; the promise is that no request fails and the tail barely
 * moves. The steady p99 is the mean of the periods right before and right after the flips: on a
 * shared machine p99 at c=64 drifts between runs seconds apart, and bracketing the flips in time
 * keeps that drift out of the ratio.
 */
import type { LoadResult } from './load.js';
import { CONTROL_TOKEN } from './scenarios.js';

export interface FlipResult {
  /** The period right before the flips. */
  steady: LoadResult;
  during: LoadResult;
  /** The period right after the flips. */
  steadyAfter: LoadResult;
  flips: number;
  flipsFailed: number;
  /** Slowest flip call, start to answer, ms. */
  flipMaxMs: number;
}

type Drive = (
  url: string,
  connections: number,
  durationS: number,
  body: string,
) => Promise<LoadResult>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function control(url: string, path: string, body: unknown): Promise<boolean> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CONTROL_TOKEN}` },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.ok;
}

export async function benchFlips(
  serverUrl: string,
  drive: Drive,
  body: string,
  durationS: number,
  flips = 50,
): Promise<FlipResult> {
  // A standby to flip to: v2 live, v1 standby.
  if (!(await control(serverUrl, '/control/promote', { model: 'iris', version: 'v2' }))) {
    throw new Error('flip bench: could not promote iris v2');
  }
  const steady = await drive(`${serverUrl}/predict/iris`, 64, durationS, body);
  const load = drive(`${serverUrl}/predict/iris`, 64, durationS, body);
  let flipsFailed = 0;
  let flipMaxMs = 0;
  // Leave the first and last tenth of the period alone so every flip lands under full load.
  const spacingMs = (durationS * 800) / flips;
  await sleep(durationS * 100);
  for (let i = 0; i < flips; i++) {
    const start = performance.now();
    if (!(await control(serverUrl, '/control/flip', { model: 'iris', reason: 'bench' }))) {
      flipsFailed++;
    }
    const took = performance.now() - start;
    flipMaxMs = Math.max(flipMaxMs, took);
    await sleep(Math.max(0, spacingMs - took));
  }
  const during = await load;
  const steadyAfter = await drive(`${serverUrl}/predict/iris`, 64, durationS, body);
  return { steady, during, steadyAfter, flips, flipsFailed, flipMaxMs };
}

/** The steady p99 the flips are compared with: the mean of the periods before and after. */
export const steadyP99 = (flips: FlipResult): number =>
  (flips.steady.p99Ms + flips.steadyAfter.p99Ms) / 2;
