import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

let batched: TestGateway;
let unbatched: TestGateway;
beforeAll(async () => {
  // A 2 ms timer window: wide enough that 64 requests from one client process overlap.
  batched = await createTestGateway({ env: { MODELGATE_BATCH_WINDOW_US: '2000' } });
  unbatched = await createTestGateway({ env: { MODELGATE_BATCH_WINDOW_US: '0' } });
});
afterAll(async () => {
  await batched.close();
  await unbatched.close();
});

const rows = Array.from({ length: 64 }, (_, i) => [
  4.3 + (i % 36) * 0.1,
  2 + (i % 7) * 0.3,
  1 + (i % 59) * 0.1,
  0.1 + (i % 25) * 0.1,
]);

/** 64 concurrent requests over real sockets, so they really arrive together. */
async function predictConcurrently(gw: TestGateway) {
  const server = serve({ fetch: gw.gate.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict/iris`;
  try {
    return await Promise.all(
      rows.map(async (row) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [row] }),
        });
        expect(res.status).toBe(200);
        return (await readPrediction(res)).outputs[0];
      }),
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('dynamic batching', () => {
  it('gives results identical to unbatched inference, row for row', async () => {
    const merged = await predictConcurrently(batched);
    const single = await predictConcurrently(unbatched);
    expect(merged).toEqual(single);
  });

  it('merges concurrent requests into fewer ONNX calls (batch-size histogram)', async () => {
    const metrics = await (await batched.request('/metrics')).text();
    const count = Number(
      /modelgate_batch_rows_count\{model="iris",version="v1"\} (\d+)/.exec(metrics)?.[1],
    );
    const sum = Number(
      /modelgate_batch_rows_sum\{model="iris",version="v1"\} (\d+)/.exec(metrics)?.[1],
    );
    // Fewer ONNX calls than rows means requests were merged.
    expect(sum).toBe(64);
    expect(count).toBeLessThan(64);
    const plain = await (await unbatched.request('/metrics')).text();
    expect(plain).toContain('modelgate_batch_rows_count{model="iris",version="v1"} 64');
  });
});
