import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fp32Bytes } from './support/binary-tensors.js';
import { killLeftoverGateways, startChildGateway } from './support/child-gateway.js';
import { callError, inferenceClient } from './support/grpc-client.js';
import { present } from './support/responses.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-grpc-stop-'));
afterEach(killLeftoverGateways);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every row of the run is still queued at SIGTERM: only the drain can write it.
const DRAIN_ONLY = { MODELGATE_LOG_FLUSH_MS: '60000', MODELGATE_LOG_FLUSH_ROWS: '100000' };
const ROW = [5.1, 3.5, 1.4, 0.2];

describe('graceful stop with gRPC calls in flight', () => {
  it('has a log row for every row a gRPC call was answered OK before SIGTERM, then refuses calls', async () => {
    const dbPath = join(dir, 'grpc.db');
    const gateway = await startChildGateway({ MODELGATE_DB: dbPath, ...DRAIN_ONLY });
    const client = inferenceClient(gateway.grpcAddress);
    let answered = 0;
    let rowsAnswered = 0;
    let stopping = false;
    const send = async (i: number) => {
      const rows = i % 5 === 0 ? 3 : 1;
      const response = await client.call(
        'ModelInfer',
        {
          model_name: 'iris',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 4] }],
          raw_input_contents: [fp32Bytes(Array.from({ length: rows }, () => ROW).flat())],
        },
        { 'x-user-id': `user-${i}` },
      );
      answered += 1;
      rowsAnswered += present(response.outputs[0]?.shape[0], 'rows answered');
    };
    let next = 0;
    const worker = async () => {
      while (!stopping && next < 5000) {
        await send(next++).catch(() => {
          // refused once the server stops taking calls: not answered, so no row owed
        });
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    try {
      await expect.poll(() => answered, { timeout: 20_000 }).toBeGreaterThan(200);
      const exitCode = await gateway.stop('SIGTERM', 'node');
      stopping = true;
      await Promise.all(workers);

      expect(gateway.output()).toContain('"msg":"stopped"');
      expect(exitCode).toBe(0);
      const db = new Database(dbPath, { readonly: true });
      const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
      db.close();
      expect(n).toBe(rowsAnswered);
      const after = await callError(client.call('ServerLive', {}));
      expect(after.code).toBe(status.UNAVAILABLE);
    } finally {
      stopping = true;
      client.close();
    }
  }, 120_000);
});
