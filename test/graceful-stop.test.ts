import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildGateway } from './support/child-gateway.js';
import { IRIS_ROW, json } from './support/test-gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('graceful stop', () => {
  it('has a log row for every prediction answered 200 before SIGTERM', async () => {
    const dbPath = join(dir, 'modelgate.db');
    const gateway = await startChildGateway({ MODELGATE_DB: dbPath });
    let answered = 0;
    let rowsAnswered = 0;
    let stopping = false;
    const send = async (i: number) => {
      const batch = i % 5 === 0;
      const res = await fetch(`${gateway.url}/predict/iris`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': `user-${i}` },
        body: JSON.stringify(
          batch ? { instances: [IRIS_ROW, IRIS_ROW, IRIS_ROW] } : { inputs: IRIS_ROW },
        ),
      });
      if (res.status === 200) {
        answered += 1;
        rowsAnswered += (await json(res)).outputs.length;
      }
    };
    // Bounded load on loopback: 16 workers, until the stop, at most 5,000 requests.
    let next = 0;
    const worker = async () => {
      while (!stopping && next < 5000) {
        await send(next++).catch(() => {
          // refused once the server stops accepting: not answered, so no row owed
        });
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 1500));
    await gateway.stop('SIGTERM');
    stopping = true;
    await Promise.all(workers);

    expect(gateway.output()).toContain('"msg":"stopped"');
    expect(answered).toBeGreaterThan(50);
    const db = new Database(dbPath, { readonly: true });
    const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
    db.close();
    expect(n).toBe(rowsAnswered);
  }, 90_000);
});
