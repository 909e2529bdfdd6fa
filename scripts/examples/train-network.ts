import { at, columnSums, type Matrix, matMul, transpose, zeros } from './linear-algebra.js';
import {
  type DenseLayer,
  fitStandardizer,
  forward,
  type Network,
  standardize,
  toFloat32,
} from './network.js';
import { createRandom } from './prng.js';

export interface TrainOptions {
  /** Hidden layer widths; none gives softmax (multinomial logistic) regression. */
  hidden: number[];
  hiddenActivation: 'relu' | 'tanh';
  /** Full-batch epochs: a fixed count rather than early stopping keeps runs reproducible. */
  epochs: number;
  learningRate: number;
  /** L2 penalty on weights (not biases). */
  l2: number;
  seed: number;
}

/** Glorot-uniform weights from the seeded PRNG, zero biases. */
function initLayers(sizes: number[], options: TrainOptions): DenseLayer[] {
  const random = createRandom(options.seed);
  return sizes.slice(1).map((outputs, i) => {
    const inputs = at(sizes, i);
    const limit = Math.sqrt(6 / (inputs + outputs));
    return {
      weights: zeros(inputs, outputs).map((row) => row.map(() => (random() * 2 - 1) * limit)),
      bias: new Array<number>(outputs).fill(0),
      activation: i === sizes.length - 2 ? 'softmax' : options.hiddenActivation,
    };
  });
}

/** d(activation)/dz written in terms of the activation's output, which forward() keeps. */
function derivative(output: Matrix, activation: DenseLayer['activation']): Matrix {
  if (activation === 'relu') return output.map((row) => row.map((a) => (a > 0 ? 1 : 0)));
  if (activation === 'tanh') return output.map((row) => row.map((a) => 1 - a * a));
  throw new Error('softmax is only used as the output layer');
}

/** Cross-entropy loss, plain full-batch gradient descent; the result is rounded to float32. */
export function trainNetwork(
  rows: readonly number[][],
  targets: readonly number[],
  classes: number,
  options: TrainOptions,
): Network {
  const standardizer = fitStandardizer(rows);
  const x = standardize(rows, standardizer);
  const n = rows.length;
  const features = at(x, 0).length;
  const network: Network = {
    standardizer,
    layers: initLayers([features, ...options.hidden, classes], options),
  };

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const outputs = forward(network, x);
    // Softmax + cross-entropy: dLoss/dz = (p - onehot) / n.
    let delta = at(outputs, outputs.length - 1).map((p, i) =>
      p.map((pc, c) => (pc - (at(targets, i) === c ? 1 : 0)) / n),
    );
    for (let l = network.layers.length - 1; l >= 0; l--) {
      const layer = at(network.layers, l);
      const input = l === 0 ? x : at(outputs, l - 1);
      const gradWeights = matMul(transpose(input), delta);
      const gradBias = columnSums(delta);
      if (l > 0) {
        const below = at(network.layers, l - 1);
        const back = matMul(delta, transpose(layer.weights));
        const slope = derivative(input, below.activation);
        delta = back.map((row, i) => row.map((g, j) => g * at(at(slope, i), j)));
      }
      const rate = options.learningRate;
      layer.weights = layer.weights.map((row, r) =>
        row.map((w, c) => w - rate * (at(at(gradWeights, r), c) + options.l2 * w)),
      );
      layer.bias = layer.bias.map((b, c) => b - rate * at(gradBias, c));
    }
  }
  return toFloat32(network);
}
