import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainedExample, trainExamples } from '../scripts/examples/catalog.js';
import { argmax } from '../scripts/examples/linear-algebra.js';
import { INPUT_NAME, OUTPUT_NAME, readOnnxMetadata } from '../scripts/examples/onnx-graph.js';

// Retraining is deterministic and takes about a second, so comparing the committed files with
// a fresh run catches a model that was edited or not regenerated after a training change.
const examples = trainExamples();
const modelsDir = fileURLToPath(new URL('../models/', import.meta.url));
const fileOf = (example: TrainedExample, name: string) =>
  `${modelsDir}${example.model}/${example.version}/${name}`;

const sessions = new Map<TrainedExample, ort.InferenceSession>();

beforeAll(async () => {
  for (const example of examples) {
    const session = await ort.InferenceSession.create(fileOf(example, 'model.onnx'), {
      intraOpNumThreads: 1,
    });
    sessions.set(example, session);
  }
});

afterAll(async () => {
  for (const session of sessions.values()) await session.release();
});

function sessionOf(example: TrainedExample): ort.InferenceSession {
  const session = sessions.get(example);
  if (!session) throw new Error(`no session for ${example.model}/${example.version}`);
  return session;
}

/** Every dataset row in one batch through the committed ONNX file. */
async function onnxProbabilities(example: TrainedExample): Promise<number[][]> {
  const { rows } = example.dataset;
  const width = example.dataset.features.length;
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
  const result = await sessionOf(example).run({ [INPUT_NAME]: input });
  const output = result[OUTPUT_NAME];
  if (!output) throw new Error(`no ${OUTPUT_NAME} output`);
  expect(output.dims).toEqual([rows.length, example.dataset.labels.length]);
  const flat = Array.from(output.data as Float32Array);
  const classes = example.dataset.labels.length;
  return rows.map((_, i) => flat.slice(i * classes, (i + 1) * classes));
}

describe.each(examples.map((example) => [`${example.model}/${example.version}`, example] as const))(
  'example model %s',
  (_, example) => {
    it('has the model.json a fresh training run writes', () => {
      const committed = JSON.parse(readFileSync(fileOf(example, 'model.json'), 'utf8'));
      expect(committed).toEqual(example.manifest);
      expect(example.manifest.metrics.holdoutAccuracy).toBeGreaterThanOrEqual(0.85);
    });

    it('keeps the graph contract the gateway relies on', () => {
      const session = sessionOf(example);
      const [declared] = example.manifest.inputs;
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['probabilities']);
      expect(declared?.name).toBe(session.inputNames[0]);
      expect(session.inputMetadata).toEqual([
        {
          name: 'input',
          isTensor: true,
          type: 'float32',
          shape: ['N', declared?.features.length],
        },
      ]);
      expect(session.outputMetadata).toEqual([
        {
          name: 'probabilities',
          isTensor: true,
          type: 'float32',
          shape: ['N', example.manifest.labels.length],
        },
      ]);
    });

    it('names itself in metadata_props and stays small', () => {
      const bytes = readFileSync(fileOf(example, 'model.onnx'));
      expect(readOnnxMetadata(bytes)).toMatchObject({
        'modelgate.model': example.model,
        'modelgate.version': example.version,
        'modelgate.labels': JSON.stringify(example.manifest.labels),
      });
      expect(statSync(fileOf(example, 'model.onnx')).size).toBeLessThan(20 * 1024);
    });

    it('gives the freshly trained TS model probabilities and labels on every row', async () => {
      const fromOnnx = await onnxProbabilities(example);
      const fromTs = example.predictProbaBatch(example.dataset.rows);
      const largestGap = Math.max(
        ...fromOnnx.flatMap((probabilities, i) =>
          probabilities.map((p, c) => Math.abs(p - (fromTs[i]?.[c] ?? Number.NaN))),
        ),
      );
      expect(largestGap).toBeLessThan(1e-5);
      expect(fromOnnx.map(argmax)).toEqual(fromTs.map(argmax));
    });
  },
);

describe('iris versions', () => {
  it('v1 and v2 disagree on a few rows, so a comparison has something to find', async () => {
    const [v1, v2] = examples.filter((example) => example.model === 'iris');
    if (!v1 || !v2) throw new Error('iris v1 and v2 are missing');
    const labels1 = (await onnxProbabilities(v1)).map(argmax);
    const labels2 = (await onnxProbabilities(v2)).map(argmax);
    const disagreements = labels1.filter((label, i) => label !== labels2[i]).length;
    expect(disagreements).toBeGreaterThanOrEqual(1);
    expect(disagreements).toBeLessThanOrEqual(10);
  });
});
