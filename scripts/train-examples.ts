/**
 * Trains the bundled example models and writes models/<name>/<version>/model.{onnx,json}.
 * Deterministic: rerunning it reproduces the committed files, and test/examples.test.ts
 * fails when they drift apart. Run with `npm run models:train`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TrainedExample, trainIris, trainPenguins } from './examples/catalog.js';
import { countDisagreements } from './examples/compare.js';

const MAX_ONNX_BYTES = 20 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function write(example: TrainedExample): void {
  const dir = join(root, 'models', example.model, example.version);
  mkdirSync(dir, { recursive: true });
  const onnx = example.toOnnx();
  if (onnx.byteLength > MAX_ONNX_BYTES) {
    throw new Error(`${example.model}/${example.version}: ${onnx.byteLength} bytes is too large`);
  }
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(example.manifest, null, 2)}\n`);
  const { holdoutAccuracy, trainAccuracy, holdoutRows } = example.manifest.metrics;
  console.log(
    `${relative(root, dir)}: ${example.manifest.algorithm}, hold-out accuracy ${holdoutAccuracy} ` +
      `(${holdoutRows} rows), train ${trainAccuracy}, ${onnx.byteLength} bytes`,
  );
}

const iris = trainIris();
const penguins = trainPenguins();
for (const example of [iris.v1, iris.v2, penguins.v1]) write(example);

const disagreements = countDisagreements(iris.v1, iris.v2, iris.v1.dataset.rows);
console.log(`iris v1 and v2 disagree on ${disagreements} of ${iris.v1.dataset.rows.length} rows`);
