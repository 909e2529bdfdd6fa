/**
 * The worker thread side of a version's inference (see worker-runner.ts): one ONNX Runtime
 * session, created from the same file and options as the main thread's, running whatever it
 * is sent. onnxruntime-node runs a session synchronously on the thread that calls it, so a
 * model that takes milliseconds would hold the gateway's event loop; here it holds only this
 * thread's, and HTTP, routing and the log keep the other core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import {
  fromWire,
  toWire,
  type WireClose,
  type WireRequest,
  type WireResponse,
  type WireTensor,
  type WorkerInit,
} from './worker-wire.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('inference-worker.ts runs only as a worker thread');

try {
  const session =
    typeof init.model === 'string'
      ? await ort.InferenceSession.create(init.model, init.options)
      : await ort.InferenceSession.create(init.model, init.options);
  /** Runs started and not yet answered: a close waits for them. */
  const running = new Set<Promise<void>>();
  const answer = async (request: WireRequest): Promise<void> => {
    let response: WireResponse;
    const transfer: ArrayBuffer[] = [];
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(request.feeds)) {
        feeds[name] = fromWire(t);
      }
      const results = await session.run(feeds, request.fetches);
      const outputs: Record<string, WireTensor> = {};
      for (const [name, tensor] of Object.entries(results)) {
        outputs[name] = toWire(tensor);
        const data = tensor.data;
        if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
          transfer.push(data.buffer);
        }
      }
      response = { id: request.id, outputs };
    } catch (error) {
      response = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(response, transfer);
  };
  port.on('message', async (request: WireRequest | WireClose) => {
    if ('close' in request) {
      // session.run only starts its work on a later turn, so runs that arrived before the
      // close may not have begun: releasing now would free the session under them and exit
      // with their callers never answered. Each is answered first.
      while (running.size > 0) await Promise.all(running);
      await session.release();
      process.exit(0);
    }
    if (request.exitForTests !== undefined) process.exit(request.exitForTests);
    const run = answer(request);
    running.add(run);
    await run;
    running.delete(run);
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) });
}
