import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  housePrice,
  logisticRegressionNoZipMap,
  logisticRegressionZipMap,
  randomForestZipMap,
  threeInputRegressor,
  torchBinarySigmoid,
  torchLogits,
  treeRegressor,
  treeRegressorValue,
  tunedThresholdBinary,
  writeVersion,
} from './support/converter-graphs.js';
import {
  parseAs,
  present,
  readCompare,
  readError,
  readInfer,
  readModelMetadata,
  readModels,
  readOipError,
  schemas,
} from './support/responses.js';
import { createTestGateway, json, type TestGateway } from './support/test-gateway.js';

/** Graphs as the converters emit them, dropped in models/ with no model.json unless said. */
let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-byom-'));
  const models = join(dir, 'models');
  writeVersion(models, 'sk', 'v1', logisticRegressionZipMap());
  writeVersion(models, 'sk', 'v2', randomForestZipMap());
  writeVersion(models, 'species', 'v1', randomForestZipMap(['setosa', 'versicolor', 'virginica']));
  writeVersion(models, 'nozip', 'v1', logisticRegressionNoZipMap());
  writeVersion(models, 'torch', 'v1', torchLogits(), {
    output: { name: 'logits', transform: 'softmax' },
    labels: ['setosa', 'versicolor', 'virginica'],
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  });
  writeVersion(models, 'torch', 'v2', torchLogits());
  writeVersion(models, 'binary', 'v1', torchBinarySigmoid());
  writeVersion(models, 'tuned', 'v1', tunedThresholdBinary());
  writeVersion(models, 'price', 'v1', treeRegressor());
  writeVersion(models, 'house', 'v1', threeInputRegressor());
  gw = await createTestGateway({ dir, env: { MODELGATE_MODELS_DIR: models } });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.5, 3.0, 5.5, 2.0];
const VERSICOLOR = [6.0, 2.9, 4.5, 1.5];
const ROWS = [SETOSA, VERSICOLOR, VIRGINICA];

const COEFFICIENTS = [
  [0.4, 1.4, -2.2, -1.0],
  [0.4, -1.5, 0.5, -1.2],
  [-1.7, -1.5, 2.4, 2.5],
];
const INTERCEPTS = [0.3, 1.0, -1.2];
const scores = (row: number[]) =>
  COEFFICIENTS.map((w, k) => w.reduce((s, wi, i) => s + wi * (row[i] ?? 0), INTERCEPTS[k] ?? 0));
const softmax = (z: number[]) => {
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
};
/** skl2onnx's LinearClassifier (LOGISTIC) + Normalizer (L1). */
const logisticL1 = (row: number[]) => {
  const p = scores(row).map((s) => 1 / (1 + Math.exp(-s)));
  const total = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / total);
};
/** The two trees of randomForestZipMap, averaged. */
const forest = (row: number[]) => {
  const tree = (petalLength: number, petalWidth: number) =>
    (row[2] ?? 0) <= petalLength
      ? [1, 0, 0]
      : (row[3] ?? 0) <= petalWidth
        ? [0, 0.9, 0.1]
        : [0, 0, 1];
  const [a, b] = [tree(2.45, 1.75), tree(2.6, 1.65)];
  return a.map((v, k) => (v + (b[k] ?? 0)) / 2);
};
const argmax = (p: number[]) => p.indexOf(Math.max(...p));

async function answerOf(model: string, body: unknown, version?: string): Promise<unknown> {
  const res = await gw.post(
    `/predict/${model}`,
    body,
    version ? { 'x-model-version': version } : {},
  );
  const answer = await json(res);
  expect(res.status, JSON.stringify(answer)).toBe(200);
  return answer;
}
/** A classifier's answer: a label and probabilities per row. */
const predict = async (model: string, body: unknown, version?: string) =>
  parseAs(schemas.classPrediction, await answerOf(model, body, version));
/** A regressor's answer: a value per row. */
const predictValue = async (model: string, body: unknown, version?: string) =>
  parseAs(schemas.valuePrediction, await answerOf(model, body, version));

function expectProbabilities(
  probabilities: Record<string, number> | undefined,
  labels: string[],
  expected: number[],
) {
  const actual = present(probabilities, 'probabilities');
  expect(Object.keys(actual)).toEqual(labels);
  labels.forEach((label, k) => {
    expect(actual[label]).toBeCloseTo(expected[k] as number, 5);
  });
  expect(Object.values(actual).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
}

describe('skl2onnx classifiers with their defaults (ZipMap), no model.json', () => {
  it('LogisticRegression serves labels "0", "1", "2" with the probabilities the ZipMap was fed', async () => {
    const answer = await predict('sk', { inputs: ROWS }, 'v1');
    expect(answer.version).toBe('v1');
    expect(answer.labelFrom).toBe('output_label');
    ROWS.forEach((row, i) => {
      const expected = logisticL1(row);
      expectProbabilities(answer.outputs[i]?.probabilities, ['0', '1', '2'], expected);
      expect(answer.outputs[i]?.label).toBe(String(argmax(expected)));
    });
  });

  it('RandomForestClassifier serves through /predict and OIP infer the same', async () => {
    const answer = await predict('sk', { inputs: ROWS }, 'v2');
    ROWS.forEach((row, i) => {
      expectProbabilities(answer.outputs[i]?.probabilities, ['0', '1', '2'], forest(row));
      expect(answer.outputs[i]?.label).toBe(String(argmax(forest(row))));
    });
    const res = await gw.post('/v2/models/sk/versions/v2/infer', {
      inputs: [{ name: 'float_input', shape: [3, 4], datatype: 'FP32', data: ROWS.flat() }],
    });
    expect(res.status).toBe(200);
    const infer = await readInfer(res);
    const probabilities = present(
      infer.outputs.find((o) => o.name === 'probabilities'),
      'probabilities',
    );
    expect(probabilities.shape).toEqual([3, 3]);
    ROWS.forEach((row, i) => {
      forest(row).forEach((p, k) => {
        expect(probabilities.data?.[i * 3 + k]).toBeCloseTo(p, 5);
      });
    });
    expect(infer.outputs.find((o) => o.name === 'label')?.data).toEqual(['0', '1', '2']);
  });

  it('string class labels come from classlabels_strings', async () => {
    const answer = await predict('species', {
      inputs: { f0: 6.5, f1: 3.0, f2: 5.5, f3: 2.0 },
    });
    expect(answer.outputs[0]?.label).toBe('virginica');
    expectProbabilities(
      answer.outputs[0]?.probabilities,
      ['setosa', 'versicolor', 'virginica'],
      forest(VIRGINICA),
    );
  });

  it('compare puts LogisticRegression against RandomForest on label feedback', async () => {
    for (const version of ['v1', 'v2']) {
      const answer = await predict('sk', { inputs: [...ROWS, ...ROWS] }, version);
      for (const [i, predictionId] of present(answer.predictionIds, 'predictionIds').entries()) {
        const res = await gw.post('/feedback', { predictionId, label: String(i % 3) });
        expect(res.status).toBe(200);
      }
    }
    const report = await readCompare(await gw.request('/compare/sk'));
    const accuracy = Object.fromEntries(
      report.versions.map((v) => [v.version, v.accuracy && [v.accuracy.correct, v.accuracy.n]]),
    );
    const correct = (p: (row: number[]) => number[]) =>
      2 * ROWS.filter((row, i) => argmax(p(row)) === i).length;
    expect(accuracy).toEqual({ v1: [correct(logisticL1), 6], v2: [correct(forest), 6] });
    expect(report.accuracy).toHaveLength(1);
    expect(report.versions.map((v) => v.task)).toEqual(['classification', 'classification']);
  });

  it('GET /models says what was read from the graph and why', async () => {
    const models = await readModels(await gw.request('/models'));
    const sk = models.models.find((m) => m.name === 'sk');
    const v1 = present(
      sk?.versions.find((v) => v.version === 'v1'),
      'sk v1',
    );
    expect(v1).toMatchObject({
      task: 'classification',
      inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
      features: ['f0', 'f1', 'f2', 'f3'],
      labels: ['0', '1', '2'],
    });
    expect(v1.contract.join('\n')).toContain('ZipMap');
    expect(models.failed).toEqual([]);
  });
});

describe('other classifier conventions', () => {
  it('zipmap=False: label + probabilities tensors, labels from the classifier op', async () => {
    const answer = await predict('nozip', { inputs: [VERSICOLOR] });
    expectProbabilities(
      answer.outputs[0]?.probabilities,
      ['0', '1', '2'],
      softmax(scores(VERSICOLOR)),
    );
  });

  it('PyTorch logits get softmax, from model.json or inferred from the Gemm that emits them', async () => {
    const named = await predict(
      'torch',
      { inputs: { sepal_length: 6.0, sepal_width: 2.9, petal_length: 4.5, petal_width: 1.5 } },
      'v1',
    );
    expectProbabilities(
      named.outputs[0]?.probabilities,
      ['setosa', 'versicolor', 'virginica'],
      softmax(scores(VERSICOLOR)),
    );
    const inferred = await predict('torch', { inputs: [VERSICOLOR] }, 'v2');
    expectProbabilities(
      inferred.outputs[0]?.probabilities,
      ['0', '1', '2'],
      softmax(scores(VERSICOLOR)),
    );
  });

  it('one sigmoid column is a binary classifier: P("1") and 1 − it', async () => {
    const row = [6, 3, 4, 1];
    const p = 1 / (1 + Math.exp(-(0.5 * 6 - 0.5 * 3 + 4 + 1 - 3)));
    const answer = await predict('binary', { inputs: [row] });
    expectProbabilities(answer.outputs[0]?.probabilities, ['0', '1'], [1 - p, p]);
    expect(answer.outputs[0]?.label).toBe('1');
  });

  it("the graph's label output wins over argmax, and the response says so", async () => {
    // x0 = 0.4055: P(1) = 1 / (1 + e^0.4055) = 0.4 — argmax says 0, the tuned threshold 0.3 says 1.
    const answer = await predict('tuned', { inputs: [[0.4055], [3]] });
    expect(answer.labelFrom).toBe('label');
    expect(answer.outputs[0]?.probabilities['1']).toBeCloseTo(0.4, 3);
    expect(answer.outputs[0]?.label).toBe('1');
    expect(answer.outputs[1]?.label).toBe('0');
    const [row] = await gw.query<{ label: string; score: number }>(
      'SELECT label, score FROM predictions WHERE id = ?',
      answer.predictionIds?.[0],
    );
    expect(row?.label).toBe('1');
    expect(row?.score).toBeCloseTo(0.4, 3);
  });
});

describe('regressors', () => {
  it("serve a value per row, log it, and answer OIP with the graph's own output tensor", async () => {
    const rows = [
      [3, 0],
      [20, 1],
      [20, 9],
    ];
    const answer = await predictValue('price', { inputs: rows });
    expect(answer.outputs).toEqual(rows.map((row) => ({ value: treeRegressorValue(row) })));
    const logged = await gw.query<{ output: string; label: string | null; score: number }>(
      'SELECT output, label, score FROM predictions WHERE id = ?',
      answer.predictionIds?.[1],
    );
    expect(logged).toEqual([{ output: '{"value":200}', label: null, score: 200 }]);

    const res = await gw.post('/v2/models/price/infer', {
      inputs: [{ name: 'input', shape: [3, 2], datatype: 'FP32', data: rows.flat() }],
    });
    expect(res.status).toBe(200);
    expect((await readInfer(res)).outputs).toEqual([
      { name: 'variable', datatype: 'FP32', shape: [3, 1], data: [100, 200, 300] },
    ]);
    const metadata = await readModelMetadata(await gw.request('/v2/models/price'));
    expect(metadata.outputs).toEqual([{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }]);
    expect(metadata.parameters.task).toBe('regression');
  });
});

describe('several inputs of other element types', () => {
  it('named features go to their own inputs (FP32, STRING, INT64) with no model.json', async () => {
    const answer = await predictValue('house', {
      instances: [
        { rooms: 3, city: 'Oslo', floor: 2 },
        { rooms: 4, city: 'Bergen', floor: 7 },
      ],
    });
    expect(answer.outputs).toEqual([
      { value: housePrice(3, 'Oslo', 2) },
      { value: housePrice(4, 'Bergen', 7) },
    ]);
    const [logged] = await gw.query<{ input: string }>(
      'SELECT input FROM predictions WHERE id = ?',
      answer.predictionIds?.[0],
    );
    expect(JSON.parse(logged?.input ?? '')).toEqual({ rooms: 3, city: 'Oslo', floor: 2 });
  });

  it('OIP takes one tensor per input, in its own datatype', async () => {
    const res = await gw.post('/v2/models/house/infer', {
      inputs: [
        { name: 'city', shape: [2, 1], datatype: 'BYTES', data: ['Oslo', 'Paris'] },
        { name: 'rooms', shape: [2, 1], datatype: 'FP32', data: [3, 4] },
        { name: 'floor', shape: [2, 1], datatype: 'INT64', data: [2, 7] },
      ],
    });
    const answer = await json(res);
    expect(res.status, JSON.stringify(answer)).toBe(200);
    expect(parseAs(schemas.inferAnswer, answer).outputs[0]?.data).toEqual([
      housePrice(3, 'Oslo', 2),
      housePrice(4, 'Paris', 7),
    ]);
  });

  it('a value of the wrong type is a 400 naming the feature and the expected type; no row', async () => {
    const before = (
      await gw.query<{ n: number }>("SELECT count(*) AS n FROM predictions WHERE model = 'house'")
    )[0]?.n;
    const cases: Array<[unknown, string, string]> = [
      [{ inputs: { rooms: 3, city: 5, floor: 2 } }, 'inputs.city', 'string (BYTES)'],
      [{ inputs: { rooms: 3, city: 'Oslo', floor: 2.5 } }, 'inputs.floor', 'INT64'],
      [{ inputs: { rooms: 'three', city: 'Oslo', floor: 2 } }, 'inputs.rooms', 'FP32'],
      [{ inputs: [[3, 'Oslo', true]] }, 'inputs[0][2] (floor)', 'INT64'],
    ];
    for (const [body, field, type] of cases) {
      const res = await gw.post('/predict/house', body);
      expect(res.status).toBe(400);
      const { message } = (await readError(res)).error;
      expect(message).toContain(field);
      expect(message).toContain(type);
    }
    const oip = await gw.post('/v2/models/house/infer', {
      inputs: [
        { name: 'rooms', shape: [1, 1], datatype: 'FP32', data: [3] },
        { name: 'city', shape: [1, 1], datatype: 'FP32', data: [1] },
        { name: 'floor', shape: [1, 1], datatype: 'INT64', data: [2] },
      ],
    });
    expect(oip.status).toBe(400);
    // Errors under /v2 take the specification's shape: {"error": "<message>"}.
    expect((await readOipError(oip)).error).toContain('input "city" expects BYTES');
    const after = (
      await gw.query<{ n: number }>("SELECT count(*) AS n FROM predictions WHERE model = 'house'")
    )[0]?.n;
    expect(after).toBe(before);
  });
});

describe('on an inference worker thread', () => {
  it('serves the rewritten ZipMap graph and string/INT64 inputs there too', async () => {
    const worker = await createTestGateway({
      env: { MODELGATE_MODELS_DIR: join(dir, 'models'), MODELGATE_INFERENCE_WORKER: 'on' },
    });
    try {
      const models = await readModels(await worker.request('/models'));
      expect(models.failed).toEqual([]);
      const res = await worker.post(
        '/predict/sk',
        { inputs: [VIRGINICA] },
        { 'x-model-version': 'v1' },
      );
      const body = await json(res);
      expect(res.status, JSON.stringify(body)).toBe(200);
      const answer = parseAs(schemas.classPrediction, body);
      expectProbabilities(answer.outputs[0]?.probabilities, ['0', '1', '2'], logisticL1(VIRGINICA));
      expect(answer.outputs[0]?.label).toBe(String(argmax(logisticL1(VIRGINICA))));
      const house = await worker.post('/predict/house', {
        inputs: { rooms: 3, city: 'Oslo', floor: 2 },
      });
      expect(parseAs(schemas.valuePrediction, await json(house)).outputs).toEqual([
        { value: housePrice(3, 'Oslo', 2) },
      ]);
    } finally {
      await worker.close();
    }
  });
});
