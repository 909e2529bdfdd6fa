import { type Dataset, loadIris, loadPenguins, stratifiedSplit } from './datasets.js';
import { argmax, at } from './linear-algebra.js';
import { type Network, predictProba, predictProbaBatch } from './network.js';
import { buildOnnx } from './onnx-graph.js';
import { createRandom } from './prng.js';
import { type TrainOptions, trainNetwork } from './train-network.js';

const HOLDOUT_SHARE = 0.2;
const SPLIT_SEED = 20240501;

/** model.json as the gateway reads it (src/models/manifest.ts). */
export interface ModelManifestJson {
  inputs: { name: string; datatype: 'FP32'; shape: number[]; features: string[] }[];
  labels: string[];
  description: string;
  algorithm: string;
  trainedOn: string;
  metrics: { holdoutAccuracy: number; trainAccuracy: number; holdoutRows: number };
}

/** One bundled model version: what to write to disk and a TS reference to test it against. */
export interface TrainedExample {
  model: string;
  version: string;
  dataset: Dataset;
  network: Network;
  manifest: ModelManifestJson;
  predictProba(row: number[]): number[];
  predictProbaBatch(rows: readonly number[][]): number[][];
  toOnnx(): Uint8Array;
}

interface ExampleSpec {
  model: string;
  version: string;
  algorithm: string;
  description: string;
  options: TrainOptions;
}

function accuracy(network: Network, dataset: Dataset, indices: readonly number[]): number {
  const rows = indices.map((i) => at(dataset.rows, i));
  const predicted = predictProbaBatch(network, rows).map(argmax);
  const correct = predicted.filter((label, k) => label === at(dataset.targets, at(indices, k)));
  return Math.round((correct.length / indices.length) * 10_000) / 10_000;
}

function train(dataset: Dataset, spec: ExampleSpec): TrainedExample {
  const { train: trainIdx, holdout } = stratifiedSplit(
    dataset.targets,
    HOLDOUT_SHARE,
    createRandom(SPLIT_SEED),
  );
  const network = trainNetwork(
    trainIdx.map((i) => at(dataset.rows, i)),
    trainIdx.map((i) => at(dataset.targets, i)),
    dataset.labels.length,
    spec.options,
  );
  const manifest: ModelManifestJson = {
    inputs: [
      {
        name: 'input',
        datatype: 'FP32',
        shape: [-1, dataset.features.length],
        features: dataset.features,
      },
    ],
    labels: dataset.labels,
    description: spec.description,
    algorithm: spec.algorithm,
    trainedOn: `${dataset.source}, ${trainIdx.length} training rows (seeded stratified split)`,
    metrics: {
      holdoutAccuracy: accuracy(network, dataset, holdout),
      trainAccuracy: accuracy(network, dataset, trainIdx),
      holdoutRows: holdout.length,
    },
  };
  return {
    model: spec.model,
    version: spec.version,
    dataset,
    network,
    manifest,
    predictProba: (row) => predictProba(network, row),
    predictProbaBatch: (rows) => predictProbaBatch(network, rows),
    toOnnx: () =>
      buildOnnx(network, {
        model: spec.model,
        version: spec.version,
        algorithm: spec.algorithm,
        description: spec.description,
        labels: dataset.labels,
      }),
  };
}

/** Softmax regression: no hidden layer, so hiddenActivation is unused. */
const LINEAR: Omit<TrainOptions, 'epochs' | 'l2'> = {
  hidden: [],
  hiddenActivation: 'relu',
  seed: 1,
  learningRate: 0.5,
};

export function trainIris(): { v1: TrainedExample; v2: TrainedExample } {
  const iris = loadIris();
  const what = 'Iris species from sepal and petal length and width (cm)';
  return {
    v1: train(iris, {
      model: 'iris',
      version: 'v1',
      algorithm: 'softmax regression',
      description: `${what}: multinomial logistic regression.`,
      // Stronger L2 and fewer epochs than v2 leave a softer versicolor/virginica boundary, so the
      // versions disagree on a handful of rows (the script prints how many): something for a
      // comparison to find. Retune here if that count leaves 2–10.
      options: { ...LINEAR, epochs: 300, l2: 1e-2 },
    }),
    v2: train(iris, {
      model: 'iris',
      version: 'v2',
      algorithm: 'mlp 4-8-3 relu',
      description: `${what}: small neural network, one hidden layer of 8 ReLU units.`,
      options: {
        hidden: [8],
        hiddenActivation: 'relu',
        epochs: 1000,
        learningRate: 0.2,
        l2: 1e-3,
        seed: 7,
      },
    }),
  };
}

export function trainPenguins(): { v1: TrainedExample } {
  return {
    v1: train(loadPenguins(), {
      model: 'penguins',
      version: 'v1',
      algorithm: 'softmax regression',
      description:
        'Palmer penguin species from bill length and depth (mm), flipper length (mm) and ' +
        'body mass (g): multinomial logistic regression.',
      options: { ...LINEAR, epochs: 1000, l2: 1e-3 },
    }),
  };
}

/** Every bundled model version, in the order they are written. */
export function trainExamples(): TrainedExample[] {
  const iris = trainIris();
  return [iris.v1, iris.v2, trainPenguins().v1];
}
