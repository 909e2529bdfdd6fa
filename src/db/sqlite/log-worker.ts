/**
 * The prediction log's writer thread (see log-thread.ts): its own connection to the SQLite
 * file, committing the batches it is sent with the same insert as the inline writer, so the
 * main thread's event loop pays only for handing the rows over.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection.js';
import { prepareLogInsert } from './log-insert.js';
import {
  type LogWorkerHello,
  type LogWorkerInit,
  type LogWrite,
  type LogWriteAnswer,
  toWireError,
} from './log-thread-wire.js';

const init = workerData as LogWorkerInit;
const port = parentPort;
if (!port) throw new Error('log-worker.ts runs only as a worker thread');

try {
  // The main connection applied the migrations before this thread was started.
  const insert = prepareLogInsert(openConnection(init.path, init.busyTimeoutMs));
  port.on('message', (write: LogWrite) => {
    if (write.exitForTests?.when === 'before-commit') process.exit(write.exitForTests.code);
    let answer: LogWriteAnswer;
    try {
      answer = { id: write.id, rejected: insert(write.rows) };
    } catch (error) {
      answer = { id: write.id, error: toWireError(error) };
    }
    if (write.exitForTests?.when === 'after-commit') process.exit(write.exitForTests.code);
    port.postMessage(answer);
  });
  port.postMessage({ ready: true } satisfies LogWorkerHello);
} catch (error) {
  port.postMessage({ ready: false, error: toWireError(error) } satisfies LogWorkerHello);
}
