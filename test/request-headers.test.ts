import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_TOKEN,
  createTestGateway,
  IRIS_ROW,
  type TestGateway,
} from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

/** One HTTP/1.1 request written as raw lines (fetch cannot repeat a header), its status line back. */
function rawStatus(
  method: string,
  path: string,
  headerLines: string[],
  body: string,
): Promise<string> {
  const { port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.write(
      [
        `${method} ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Connection: close',
        `Content-Length: ${Buffer.byteLength(body)}`,
        ...headerLines,
        '',
        body,
      ].join('\r\n'),
    );
  });
}

describe('repeated request headers are read as the Fetch API reads them (every line, joined)', () => {
  const split = JSON.stringify({ model: 'iris', weights: { v1: 100 } });

  it('a second Authorization line makes the token invalid: 401, as through Headers', async () => {
    const once = await rawStatus(
      'PUT',
      '/control/split',
      ['Content-Type: application/json', `Authorization: Bearer ${CONTROL_TOKEN}`],
      split,
    );
    expect(once).toMatch(/^HTTP\/1\.1 200/);
    const twice = await rawStatus(
      'PUT',
      '/control/split',
      [
        'Content-Type: application/json',
        `Authorization: Bearer ${CONTROL_TOKEN}`,
        'Authorization: Bearer wrong',
      ],
      split,
    );
    expect(twice).toMatch(/^HTTP\/1\.1 401/);
  });

  it('X-User-Id lines are joined into one sticky key, the same key every time', async () => {
    const body = JSON.stringify({ inputs: IRIS_ROW });
    const joined = await rawStatus(
      'POST',
      '/predict/iris',
      [
        'Content-Type: application/json',
        'X-User-Id: alice',
        'X-User-Id: bob',
        'X-Request-Id: joined-key',
      ],
      body,
    );
    expect(joined).toMatch(/^HTTP\/1\.1 200/);
    const single = await gw.post(
      '/predict/iris',
      { inputs: IRIS_ROW },
      {
        'x-user-id': 'alice, bob',
        'x-request-id': 'single-key',
      },
    );
    expect(single.status).toBe(200);
    await gw.gate.flushLog();
    const hashes = await gw.query<{ request_id: string; user_hash: string }>(
      "SELECT request_id, user_hash FROM predictions WHERE request_id IN ('joined-key', 'single-key') ORDER BY request_id",
    );
    expect(hashes).toHaveLength(2);
    expect(hashes[0]?.user_hash).toBe(hashes[1]?.user_hash);
  });
});
