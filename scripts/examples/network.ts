import { addRowVector, at, type Matrix, matMul, softmax, type Vector } from './linear-algebra.js';

export type Activation = 'relu' | 'tanh' | 'softmax';

/** out = activation(in · weights + bias); weights are [inputs × outputs], as ONNX MatMul takes. */
export interface DenseLayer {
  weights: Matrix;
  bias: Vector;
  activation: Activation;
}

/** Training-set mean and standard deviation per feature, applied inside the model. */
export interface Standardizer {
  mean: Vector;
  std: Vector;
}

/**
 * A feed-forward classifier. Softmax regression is the case with a single softmax layer,
 * so one graph builder and one reference implementation cover every example model.
 */
export interface Network {
  standardizer: Standardizer;
  layers: DenseLayer[];
}

export function fitStandardizer(rows: readonly Vector[]): Standardizer {
  const n = rows.length;
  const width = at(rows, 0).length;
  const column = (f: number) => rows.map((row) => at(row, f));
  const mean = Array.from({ length: width }, (_, f) => column(f).reduce((s, x) => s + x, 0) / n);
  const std = mean.map((m, f) => Math.sqrt(column(f).reduce((s, x) => s + (x - m) ** 2, 0) / n));
  return { mean, std: std.map((s) => (s > 0 ? s : 1)) };
}

export function standardize(rows: readonly Vector[], { mean, std }: Standardizer): Matrix {
  return rows.map((row) => row.map((x, f) => (x - at(mean, f)) / at(std, f)));
}

export function activate(z: Matrix, activation: Activation): Matrix {
  switch (activation) {
    case 'relu':
      return z.map((row) => row.map((x) => Math.max(0, x)));
    case 'tanh':
      return z.map((row) => row.map(Math.tanh));
    case 'softmax':
      return z.map(softmax);
  }
}

/** Every layer's output for a batch of already standardized rows (the last is probabilities). */
export function forward(network: Network, standardized: Matrix): Matrix[] {
  const outputs: Matrix[] = [];
  let current = standardized;
  for (const layer of network.layers) {
    current = activate(addRowVector(matMul(current, layer.weights), layer.bias), layer.activation);
    outputs.push(current);
  }
  return outputs;
}

/** Class probabilities for raw (unstandardized) feature rows: the reference for the ONNX graph. */
export function predictProbaBatch(network: Network, rows: readonly Vector[]): Matrix {
  return forward(network, standardize(rows, network.standardizer)).at(-1) ?? [];
}

export function predictProba(network: Network, row: Vector): Vector {
  return at(predictProbaBatch(network, [row]), 0);
}

/** Rounds every parameter to float32 so the TS reference uses exactly the weights ONNX stores. */
export function toFloat32(network: Network): Network {
  const round = (v: Vector) => v.map(Math.fround);
  return {
    standardizer: {
      mean: round(network.standardizer.mean),
      std: round(network.standardizer.std),
    },
    layers: network.layers.map((layer) => ({
      weights: layer.weights.map(round),
      bias: round(layer.bias),
      activation: layer.activation,
    })),
  };
}
