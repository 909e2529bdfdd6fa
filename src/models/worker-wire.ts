/** Messages between the main thread (worker-runner.ts) and an inference worker. */
import * as ort from 'onnxruntime-node';

/** A tensor as structured clone carries it: ort.Tensor is a class and does not survive postMessage. */
export interface WireTensor {
  type: string;
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | BigInt64Array
    | Uint8Array
    | string[]
    | boolean[];
  dims: number[];
}

export interface WorkerInit {
  /** The model file's path, or its bytes when the graph was changed in memory before loading. */
  model: string | Uint8Array;
  options: ort.InferenceSession.SessionOptions;
}

export interface WireRequest {
  id: number;
  feeds: Record<string, WireTensor>;
  fetches: string[];
  /**
   * Set only through worker-runner.ts's test seam: the worker calls process.exit with this
   * code instead of running, as a worker that crashes with a call in flight would.
   */
  exitForTests?: number;
}

/** Sent by release(): the worker frees its session and ends between runs, never inside one. */
export interface WireClose {
  close: true;
}

export type WireResponse =
  | { id: number; outputs: Record<string, WireTensor>; error?: undefined }
  | { id: number; error: string; outputs?: undefined };

export type WorkerHello = { ready: true } | { ready: false; error: string };

export const toWire = (tensor: ort.Tensor): WireTensor => ({
  type: tensor.type,
  data: tensor.data as WireTensor['data'],
  dims: [...tensor.dims],
});

export const fromWire = (tensor: WireTensor): ort.Tensor =>
  new ort.Tensor(tensor.type as 'float32', tensor.data as Float32Array, tensor.dims);
