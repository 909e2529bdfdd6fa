/**
 * Dynamic micro-batching, in the spirit of Triton's dynamic batcher: requests
 * for the same model version that arrive within one short window run as one
 * ONNX call. ONNX Runtime's run blocks the event loop and a batch of N rows
 * costs little more than one, so under concurrency this multiplies throughput.
 */
import { concatValues, type ElementType, type TensorValues } from './element-types.js';
import type { Scores } from './output-reading.js';

/** One value array per graph input, row-major. */
export type ModelInputs = readonly TensorValues[];

/** `scores`: scoresPerRow values per row; `labels`: one per row when the graph has a label output. */
export interface ModelOutputs {
  scores: Scores;
  labels: string[] | null;
}

export type BatchRunner = (inputs: ModelInputs, rows: number) => Promise<ModelOutputs>;

export interface BatchOptions {
  /** 0 disables batching. Below 1000 µs the window is one event-loop turn (setImmediate). */
  windowUs: number;
  maxRows: number;
  /** Told the size of every ONNX call, for the batch-size histogram. */
  onBatch?: (rows: number) => void;
  /**
   * At most one batch in flight; rows that arrive meanwhile wait and go together as the next
   * one, as Triton's dynamic batcher fills a busy instance's queue. For a runner on a worker
   * thread: the main thread is free while it runs, so rows keep arriving and batches grow with
   * load instead of queueing one event-loop turn's worth at a time behind each other.
   */
  oneInFlight?: boolean;
}

interface Pending {
  inputs: ModelInputs;
  rows: number;
  resolve: (outputs: ModelOutputs) => void;
  reject: (error: unknown) => void;
}

export function createBatcher(
  runner: BatchRunner,
  inputTypes: readonly ElementType[],
  scoresPerRow: number,
  options: BatchOptions,
): BatchRunner {
  let pending: Pending[] = [];
  let pendingRows = 0;
  let scheduled = false;
  let inFlight = false;

  const dispatch = (): void => {
    scheduled = false;
    if (pending.length === 0 || (options.oneInFlight && inFlight)) return;
    // Requests in arrival order up to maxRows (each one alone is below it: bigger ones bypass
    // the queue). Without oneInFlight the queue never holds more, so this takes all of it.
    let take = 0;
    let rows = 0;
    for (const request of pending) {
      if (take > 0 && rows + request.rows > options.maxRows) break;
      rows += request.rows;
      take++;
    }
    const batch = take === pending.length ? pending : pending.slice(0, take);
    pending = take === pending.length ? [] : pending.slice(take);
    pendingRows -= rows;
    options.onBatch?.(rows);
    const only = batch.length === 1 ? batch[0] : undefined;
    const inputs = only
      ? only.inputs
      : inputTypes.map((type, i) =>
          concatValues(
            type,
            batch.map((request) => request.inputs[i] as TensorValues),
          ),
        );
    inFlight = true;
    const settled = () => {
      inFlight = false;
      if (options.oneInFlight && pending.length > 0) dispatch();
    };
    runner(inputs, rows).then(
      ({ scores, labels }) => {
        let offset = 0;
        let row = 0;
        for (const request of batch) {
          const size = request.rows * scoresPerRow;
          request.resolve({
            scores: scores.subarray(offset, offset + size),
            labels: labels ? labels.slice(row, row + request.rows) : null,
          });
          offset += size;
          row += request.rows;
        }
        settled();
      },
      (error: unknown) => {
        for (const request of batch) request.reject(error);
        settled();
      },
    );
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    if (options.windowUs >= 1000) setTimeout(dispatch, options.windowUs / 1000);
    else setImmediate(dispatch);
  };

  const run: BatchRunner = (inputs, rows) => {
    if (options.windowUs === 0 || rows >= options.maxRows) {
      options.onBatch?.(rows);
      return runner(inputs, rows);
    }
    return new Promise<ModelOutputs>((resolve, reject) => {
      if (pendingRows + rows > options.maxRows) dispatch();
      pending.push({ inputs, rows, resolve, reject });
      pendingRows += rows;
      if (pendingRows >= options.maxRows) dispatch();
      else schedule();
    });
  };

  return run;
}
