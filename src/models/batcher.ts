/**
 * Dynamic micro-batching, in the spirit of Triton's dynamic batcher: requests
 * for the same model version that arrive within one short window run as one
 * ONNX call. ONNX Runtime's run blocks the event loop and a batch of N rows
 * costs little more than one, so under concurrency this multiplies throughput.
 */
export type BatchRunner = (features: Float32Array, rows: number) => Promise<Float32Array>;

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
  features: Float32Array;
  rows: number;
  resolve: (outputs: Float32Array) => void;
  reject: (error: unknown) => void;
}

export function createBatcher(
  runner: BatchRunner,
  featuresPerRow: number,
  outputsPerRow: number,
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
    const features = only ? only.features : concat(batch, rows * featuresPerRow);
    inFlight = true;
    const settled = () => {
      inFlight = false;
      if (options.oneInFlight && pending.length > 0) dispatch();
    };
    runner(features, rows).then(
      (outputs) => {
        let offset = 0;
        for (const request of batch) {
          const size = request.rows * outputsPerRow;
          request.resolve(outputs.subarray(offset, offset + size));
          offset += size;
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

  const run: BatchRunner = (features, rows) => {
    if (options.windowUs === 0 || rows >= options.maxRows) {
      options.onBatch?.(rows);
      return runner(features, rows);
    }
    return new Promise<Float32Array>((resolve, reject) => {
      if (pendingRows + rows > options.maxRows) dispatch();
      pending.push({ features, rows, resolve, reject });
      pendingRows += rows;
      if (pendingRows >= options.maxRows) dispatch();
      else schedule();
    });
  };

  return run;
}

function concat(batch: Pending[], length: number): Float32Array {
  const merged = new Float32Array(length);
  let offset = 0;
  for (const request of batch) {
    merged.set(request.features, offset);
    offset += request.features.length;
  }
  return merged;
}
