/**
 * Graceful stop under pressure, many times: `npm start` with 16 concurrent keep-alive
 * clients and a CPU-hungry neighbour process, SIGTERM to node (what `npm start` runs)
 * or to the npm process, and after each stop: rows in the log == rows answered 200?
 *
 *   npx tsx scripts/stop-stress.ts [runs per target, default 20]
 *
 * Too slow for the test suite (test/graceful-stop.test.ts does one run per target).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  type SignalTarget,
  startChildGateway,
  type WaitFor,
} from '../test/support/child-gateway.js';

const RUNS = Number(process.argv[2] ?? 20);
const CLIENTS = 16;
const IRIS_ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** One process per core spinning at 100 %: the gateway competes for every slice. */
function startNeighbours(): ChildProcess[] {
  return [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

interface RunResult {
  target: SignalTarget;
  answeredRows: number;
  loggedRows: number;
  exitCode: number | null;
  stopped: boolean;
  /** Client errors other than a refused connection (ECONNRESET on a kept-alive socket…). */
  otherErrors: number;
  errorCodes: string[];
  refused: number;
}

/** vitest's vi.waitFor works only inside its runner: the same retry until it holds, for a script. */
const waitFor: WaitFor = async (check, { timeout, interval }) => {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, interval));
    }
  }
};

async function run(target: SignalTarget, dir: string, index: number): Promise<RunResult> {
  const dbPath = join(dir, `${target}-${index}.db`);
  const gateway = await startChildGateway({ MODELGATE_DB: dbPath, LOG_LEVEL: 'info' }, waitFor);
  let answeredRows = 0;
  let answered = 0;
  let refused = 0;
  let otherErrors = 0;
  const errorCodes = new Set<string>();
  let stopping = false;
  const worker = async (id: number) => {
    for (let i = 0; !stopping; i++) {
      const batch = i % 5 === 0;
      try {
        const res = await fetch(`${gateway.url}/predict/iris`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': `u${id}-${i}` },
          body: JSON.stringify(
            batch ? { instances: [IRIS_ROW, IRIS_ROW, IRIS_ROW] } : { inputs: IRIS_ROW },
          ),
        });
        const body = (await res.json()) as { outputs?: unknown[] };
        if (res.status === 200) {
          answered += 1;
          answeredRows += body.outputs?.length ?? 0;
        }
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (code === 'ECONNREFUSED') refused += 1;
        else {
          otherErrors += 1;
          const cause = (error as { cause?: { message?: string } }).cause;
          errorCodes.add(
            `${code ?? (error as Error).message}${cause?.message ? ` (${cause.message})` : ''}`,
          );
        }
        if (code === 'ECONNREFUSED') return;
      }
    }
  };
  const workers = Array.from({ length: CLIENTS }, (_, id) => worker(id));
  // Stop at a different point of the load each run: after 100 to 600 answers.
  const stopAfter = 100 + Math.floor(Math.random() * 500);
  while (answered < stopAfter) await new Promise((r) => setTimeout(r, 20));
  const exitCode = await gateway.stop('SIGTERM', target);
  stopping = true;
  await Promise.all(workers);
  const db = new Database(dbPath, { readonly: true });
  const { n } = db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number };
  db.close();
  return {
    target,
    answeredRows,
    loggedRows: n,
    exitCode,
    stopped: gateway.output().includes('"msg":"stopped"'),
    otherErrors,
    errorCodes: [...errorCodes],
    refused,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-stop-stress-'));
  const neighbours = startNeighbours();
  const results: RunResult[] = [];
  try {
    for (const target of ['node', 'npm'] as const) {
      for (let i = 0; i < RUNS; i++) {
        const result = await run(target, dir, i);
        results.push(result);
        const ok = result.loggedRows === result.answeredRows && result.exitCode === 0;
        console.log(
          `${target} run ${i + 1}/${RUNS}: answered ${result.answeredRows} rows, logged ${result.loggedRows}, exit ${result.exitCode}, stopped ${result.stopped}, refused ${result.refused}, other client errors ${result.otherErrors} ${result.errorCodes.join(',')} ${ok ? 'OK' : 'LOST ROWS'}`,
        );
      }
    }
  } finally {
    for (const neighbour of neighbours) neighbour.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const target of ['node', 'npm'] as const) {
    const mine = results.filter((r) => r.target === target);
    const good = mine.filter((r) => r.loggedRows === r.answeredRows && r.exitCode === 0).length;
    const errors = mine.reduce((sum, r) => sum + r.otherErrors, 0);
    console.log(
      `SIGTERM to ${target}: rows == answered in ${good} of ${mine.length} runs; client errors other than refused: ${errors}`,
    );
  }
  if (results.some((r) => r.loggedRows !== r.answeredRows || r.exitCode !== 0))
    process.exitCode = 1;
}

await main();
