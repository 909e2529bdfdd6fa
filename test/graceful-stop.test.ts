import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  killLeftoverGateways,
  type SignalTarget,
  startChildGateway,
} from './support/child-gateway.js';
import { readPrediction } from './support/responses.js';
import { IRIS_ROW } from './support/test-gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-stop-'));
afterEach(killLeftoverGateways);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const countRows = (dbPath: string): number => {
  const db = new Database(dbPath, { readonly: true });
  const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
  db.close();
  return n;
};

// The log only writes when 100,000 rows wait or a row has waited a minute: every row of
// these runs is still queued at SIGTERM, so only the drain can write it.
const DRAIN_ONLY = { MODELGATE_LOG_FLUSH_MS: '60000', MODELGATE_LOG_FLUSH_ROWS: '100000' };

describe('graceful stop of `npm start`', () => {
  it.each<SignalTarget>(['node', 'npm'])(
    'has a log row for every prediction answered 200 before SIGTERM to %s',
    async (target) => {
      const dbPath = join(dir, `${target}.db`);
      // The log's writer on its thread (the default for a file): the drain goes through it.
      const gateway = await startChildGateway({
        MODELGATE_DB: dbPath,
        MODELGATE_LOG_WRITER: 'thread',
        ...DRAIN_ONLY,
      });
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
          rowsAnswered += (await readPrediction(res)).outputs.length;
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
      await expect.poll(() => answered, { timeout: 20_000 }).toBeGreaterThan(200);
      const exitCode = await gateway.stop('SIGTERM', target);
      stopping = true;
      await Promise.all(workers);

      expect(gateway.output()).toContain('"msg":"stopped"');
      expect(exitCode).toBe(0);
      expect(countRows(dbPath)).toBe(rowsAnswered);
    },
    120_000,
  );

  it('answers open requests with Connection: close, refuses new connections, and cuts what is open at the deadline', async () => {
    const gateway = await startChildGateway({
      MODELGATE_DB: join(dir, 'goodbye.db'),
      MODELGATE_SHUTDOWN_TIMEOUT: '3',
      ...DRAIN_ONLY,
    });
    const { hostname, port } = new URL(gateway.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ inputs: IRIS_ROW });
    /** Starts a prediction whose body arrives only when `finish` is called. */
    const slowPrediction = () => {
      const req = request({
        agent: new Agent({ keepAlive: true }),
        host: hostname,
        port,
        method: 'POST',
        path: '/predict/iris',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      const response = new Promise<{ status: number; connection: string | undefined }>(
        (resolve, reject) => {
          req.on('response', (res) => {
            res.resume();
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
            );
          });
          req.on('error', reject);
        },
      );
      // Resolves once the head and the first bytes are in the kernel, on the server's side.
      const sent = new Promise<void>((done) => req.write(body.slice(0, 10), () => done()));
      return { response, sent, finish: () => req.end(body.slice(10)) };
    };
    // Before the stop: keep-alive, as usual.
    /** GET on the kept-alive agent's one socket: status and Connection header. */
    const onKeptAlive = () =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        request({ agent, host: hostname, port, path: '/v2/health/live' }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
          );
        })
          .on('error', reject)
          .end();
      });
    expect(await onKeptAlive()).toEqual({ status: 200, connection: 'keep-alive' });
    const answered = slowPrediction();
    const neverFinished = slowPrediction();
    await Promise.all([answered.sent, neverFinished.sent]);
    // Then one full round trip on a third connection, opened after both heads arrived:
    // by its answer the server has read them, so both requests are open in it.
    expect((await fetch(`${gateway.url}/v2/health/live`)).status).toBe(200);
    const started = Date.now();
    process.kill(gateway.nodePid, 'SIGTERM');
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toContain('stopping');
    answered.finish();
    expect(await answered.response).toEqual({ status: 200, connection: 'close' });
    // A socket idle at the stop is not closed under a client about to use it: its next
    // request is still answered, with Connection: close.
    expect(await onKeptAlive()).toEqual({ status: 200, connection: 'close' });
    // A new connection is refused (kept-alive ones may still bring one request each).
    await expect(
      new Promise((resolve, reject) => {
        request({ agent: false, host: hostname, port, path: '/v2/health/live' }, resolve)
          .on('error', reject)
          .end();
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
    // The trickling client holds the process only until the deadline (3 s).
    await expect(neverFinished.response).rejects.toThrow();
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(gateway.output()).toContain('shutdown deadline');
    agent.destroy();
  }, 120_000);
});
