import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, IRIS_ROW, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const scrape = async () => {
  const res = await gw.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

const sample = (text: string, name: string, labels: string) => {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe('GET /metrics', () => {
  it('counts predictions and latency by model, version and route after traffic', async () => {
    for (let i = 0; i < 5; i++) await gw.post('/predict/iris', { inputs: IRIS_ROW });
    await gw.post(
      '/predict/iris',
      { instances: [IRIS_ROW, IRIS_ROW] },
      { 'x-model-version': 'v2' },
    );
    const text = await scrape();
    expect(
      sample(text, 'modelgate_predictions_total', 'model="iris",version="v1",route="live"'),
    ).toBe(5);
    expect(
      sample(text, 'modelgate_predictions_total', 'model="iris",version="v2",route="override"'),
    ).toBe(2);
    expect(
      sample(
        text,
        'modelgate_prediction_duration_seconds_count',
        'model="iris",version="v1",route="live"',
      ),
    ).toBe(5);
    expect(text).toContain('# TYPE modelgate_prediction_duration_seconds histogram');
    expect(text).toMatch(/modelgate_batch_rows_bucket\{le="1",model="iris",version="v1"\} \d+/);
  });

  it('reports the live version, the log queue and rows written, and process metrics', async () => {
    await gw.control('POST', '/control/promote', { model: 'iris', version: 'v2' });
    await gw.gate.flushLog();
    const text = await scrape();
    expect(sample(text, 'modelgate_live_version_info', 'model="iris",version="v2"')).toBe(1);
    expect(
      sample(text, 'modelgate_live_version_info', 'model="iris",version="v1"'),
    ).toBeUndefined();
    expect(sample(text, 'modelgate_prediction_log_queue_depth', '')).toBe(0);
    expect(sample(text, 'modelgate_prediction_log_rows_written_total', '')).toBe(7);
    expect(text).toContain('modelgate_process_resident_memory_bytes');
  });

  it('counts rejected requests by status without counting them as predictions', async () => {
    await gw.post('/predict/iris', { inputs: { nope: 1 } });
    const text = await scrape();
    expect(
      sample(
        text,
        'modelgate_http_requests_total',
        'method="POST",path="/predict/:model",status="400"',
      ),
    ).toBe(1);
    expect(
      sample(text, 'modelgate_predictions_total', 'model="iris",version="v1",route="live"'),
    ).toBe(5);
  });
});
