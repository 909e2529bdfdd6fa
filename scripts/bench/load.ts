import autocannon from 'autocannon';

/** One iris row, the same bytes for the bare handler and modelgate. */
export const IRIS_BODY = JSON.stringify({
  inputs: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
});

export interface LoadResult {
  connections: number;
  durationS: number;
  /** Mean of autocannon's per-second samples. */
  rps: number;
  /** Percentiles of every 2xx response time, to 0.01 ms (autocannon's own histogram keeps whole ms). */
  p50Ms: number;
  p99Ms: number;
  ok2xx: number;
  /** Requests written to a socket, answered or not (some are cut off when the run stops). */
  sent: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** `body` may be several bodies: each connection sends them in turn (a repeating workload). */
export async function drive(
  url: string,
  connections: number,
  durationS: number,
  body: string | readonly string[] = IRIS_BODY,
): Promise<LoadResult> {
  let times = new Float64Array(1 << 16);
  let count = 0;
  const instance = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(typeof body === 'string'
      ? { body }
      : { requests: body.map((one) => ({ method: 'POST' as const, body: one })) }),
    connections,
    duration: durationS,
    timeout: 10,
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status > 299) return;
    if (count === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[count++] = ms;
  });
  const result = await instance;
  const sorted = times.subarray(0, count).sort();
  const percentile = (p: number) =>
    count === 0 ? Number.NaN : (sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] ?? 0);
  return {
    connections,
    durationS: result.duration,
    rps: result.requests.mean,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    ok2xx: result['2xx'],
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Calls `sample` every `everyMs` until `work` settles; returns what `work` returned. */
export async function sampleDuring<T>(
  work: Promise<T>,
  everyMs: number,
  sample: () => void | Promise<void>,
): Promise<T> {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.resolve(sample())
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** The value of an unlabelled series in a Prometheus text exposition. */
export function promValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}
