/**
 * The bench's heavy model (issue 20): an MLP of FEATURES → HIDDEN → HIDDEN → CLASSES with
 * ReLU and a softmax, weights drawn from one seeded generator so every run serves the same
 * graph. iris costs ~12 µs a run, which measures HTTP and logging, not inference; this one
 * costs about a millisecond for a single row on this machine, as real models do.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DenseLayer, Network } from '../examples/network.js';
import { buildOnnx } from '../examples/onnx-graph.js';
import { createRandom } from '../examples/prng.js';

export const HEAVY_FEATURES = 30;
export const HEAVY_CLASSES = 10;
/** Hidden width chosen so one row takes ~1 ms single-threaded (see BENCHMARKS.md). */
export const HEAVY_HIDDEN = 2048;
const SEED = 20;

const featureNames = Array.from({ length: HEAVY_FEATURES }, (_, i) => `x${i}`);
const labels = Array.from({ length: HEAVY_CLASSES }, (_, i) => `class${i}`);

function denseLayer(
  inputs: number,
  outputs: number,
  activation: DenseLayer['activation'],
  random: () => number,
): DenseLayer {
  // He-style scale keeps activations finite through two ReLU layers.
  const scale = Math.sqrt(2 / inputs);
  return {
    weights: Array.from({ length: inputs }, () =>
      Array.from({ length: outputs }, () => Math.fround((random() * 2 - 1) * scale)),
    ),
    bias: Array.from({ length: outputs }, () => 0),
    activation,
  };
}

export function heavyNetwork(hidden = HEAVY_HIDDEN): Network {
  const random = createRandom(SEED);
  return {
    standardizer: {
      mean: featureNames.map(() => 0),
      std: featureNames.map(() => 1),
    },
    layers: [
      denseLayer(HEAVY_FEATURES, hidden, 'relu', random),
      denseLayer(hidden, hidden, 'relu', random),
      denseLayer(hidden, HEAVY_CLASSES, 'softmax', random),
    ],
  };
}

/** Writes models/heavy/v1/{model.onnx,model.json} under `modelsDir`; returns the version dir. */
export function writeHeavyModel(modelsDir: string, hidden = HEAVY_HIDDEN): string {
  const dir = join(modelsDir, 'heavy', 'v1');
  mkdirSync(dir, { recursive: true });
  const meta = {
    model: 'heavy',
    version: 'v1',
    algorithm: `MLP ${HEAVY_FEATURES}→${hidden}→${hidden}→${HEAVY_CLASSES}`,
    description: 'Bench-only heavy model: seeded random weights, about 1 ms a row.',
    labels,
  };
  writeFileSync(join(dir, 'model.onnx'), buildOnnx(heavyNetwork(hidden), meta));
  writeFileSync(
    join(dir, 'model.json'),
    `${JSON.stringify(
      {
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [-1, HEAVY_FEATURES],
            features: featureNames,
          },
        ],
        labels,
        description: meta.description,
        algorithm: meta.algorithm,
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}

/** One request body for the heavy model: every feature set, the same bytes each time. */
export function heavyBody(): string {
  const random = createRandom(SEED + 1);
  return JSON.stringify({
    inputs: Object.fromEntries(featureNames.map((name) => [name, Math.fround(random() * 2 - 1)])),
  });
}
