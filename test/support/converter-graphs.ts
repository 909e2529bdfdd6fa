import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';

/**
 * ONNX graphs shaped node for node as the converters emit them, so the gateway is
 * tested on what users actually drop in models/. The node patterns follow:
 * - skl2onnx classifiers (https://onnx.ai/sklearn-onnx/api_summary.html, option `zipmap`):
 *   a classifier op gives `label` + `probability_tensor`, a Cast/Identity gives
 *   `output_label`, and a ZipMap gives `output_probability` (a sequence of maps);
 *   with `zipmap=False` the outputs are `label` + `probabilities` tensors.
 * - the ai.onnx.ml operators LinearClassifier, Normalizer, ZipMap, TreeEnsembleClassifier,
 *   TreeEnsembleRegressor, LinearRegressor, LabelEncoder
 *   (https://onnx.ai/onnx/operators/index_ml.html).
 * - torch.onnx.export of a classifier without softmax: Gemm → `logits`
 *   (https://pytorch.org/docs/stable/onnx.html).
 * - onnxmltools XGBoost/LightGBM regressors and skl2onnx RandomForestRegressor:
 *   TreeEnsembleRegressor → `variable` float [N, 1].
 */
const { onnx } = onnxProto;
const { DOUBLE, FLOAT, INT64, STRING } = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const text = (s: string) => new TextEncoder().encode(s);

type Attribute = OnnxTypes.IAttributeProto;
const ints = (name: string, values: number[]): Attribute => ({ name, type: A.INTS, ints: values });
const floats = (name: string, values: number[]): Attribute => ({
  name,
  type: A.FLOATS,
  floats: values,
});
const strings = (name: string, values: string[]): Attribute => ({
  name,
  type: A.STRINGS,
  strings: values.map(text),
});
const int = (name: string, value: number): Attribute => ({ name, type: A.INT, i: value });
const str = (name: string, value: string): Attribute => ({ name, type: A.STRING, s: text(value) });

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: Attribute[] = [],
  domain = 'ai.onnx.ml',
): OnnxTypes.INodeProto {
  return { opType, input, output, attribute, domain, name: `${opType}_${output[0]}` };
}
const core = (opType: string, input: string[], output: string[], attribute: Attribute[] = []) =>
  node(opType, input, output, attribute, '');

/** A tensor value with N rows: `dims` are the others (none for [N]). */
function tensor(name: string, elemType: number, dims: number[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: [{ dimParam: 'N' }, ...dims.map((dimValue) => ({ dimValue }))] },
      },
    },
  };
}

/** ZipMap's output type: seq(map(int64 | string, float)). */
function zipMapOutput(name: string, keyType: number): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      sequenceType: {
        elemType: { mapType: { keyType, valueType: { tensorType: { elemType: FLOAT } } } },
      },
    },
  };
}

function model(graph: OnnxTypes.IGraphProto, producer: string): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: 13 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
      producerName: producer,
      graph: { name: 'converted', ...graph },
    }),
  ).finish();
}

/** Iris-like weights over (sepal length, sepal width, petal length, petal width). */
const IRIS_COEFFICIENTS = [0.4, 1.4, -2.2, -1.0, 0.4, -1.5, 0.5, -1.2, -1.7, -1.5, 2.4, 2.5];
const IRIS_INTERCEPTS = [0.3, 1.0, -1.2];

/**
 * skl2onnx LogisticRegression with its defaults: LinearClassifier (LOGISTIC) → Normalizer
 * (L1) → ZipMap with classlabels_int64s, Cast → output_label (INT64).
 */
export function logisticRegressionZipMap(): Uint8Array {
  return model(
    {
      node: [
        node(
          'LinearClassifier',
          ['float_input'],
          ['label', 'probability_tensor'],
          [
            ints('classlabels_ints', [0, 1, 2]),
            floats('coefficients', IRIS_COEFFICIENTS),
            floats('intercepts', IRIS_INTERCEPTS),
            int('multi_class', 1),
            str('post_transform', 'LOGISTIC'),
          ],
        ),
        node('Normalizer', ['probability_tensor'], ['probabilities'], [str('norm', 'L1')]),
        core('Cast', ['label'], ['output_label'], [int('to', INT64)]),
        node(
          'ZipMap',
          ['probabilities'],
          ['output_probability'],
          [ints('classlabels_int64s', [0, 1, 2])],
        ),
      ],
      input: [tensor('float_input', FLOAT, [4])],
      output: [tensor('output_label', INT64, []), zipMapOutput('output_probability', INT64)],
    },
    'skl2onnx',
  );
}

/**
 * Two depth-2 trees over petal length and petal width, as skl2onnx writes a
 * RandomForestClassifier: leaf weights already divided by the number of trees.
 */
function forestAttributes(): Attribute[] {
  const tree = (t: number, petalLength: number, petalWidth: number) => ({
    nodes_treeids: [t, t, t, t, t],
    nodes_nodeids: [0, 1, 2, 3, 4],
    nodes_featureids: [2, 0, 3, 0, 0],
    nodes_modes: ['BRANCH_LEQ', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'],
    nodes_values: [petalLength, 0, petalWidth, 0, 0],
    nodes_truenodeids: [1, 0, 3, 0, 0],
    nodes_falsenodeids: [2, 0, 4, 0, 0],
    // leaf 1 → class 0; leaf 3 → mostly class 1; leaf 4 → class 2
    class_treeids: [t, t, t, t],
    class_nodeids: [1, 3, 3, 4],
    class_ids: [0, 1, 2, 2],
    class_weights: [0.5, 0.45, 0.05, 0.5],
  });
  const a = tree(0, 2.45, 1.75);
  const b = tree(1, 2.6, 1.65);
  const join = <K extends keyof typeof a>(key: K) => [...a[key], ...b[key]] as (typeof a)[K];
  return [
    ints('nodes_treeids', join('nodes_treeids')),
    ints('nodes_nodeids', join('nodes_nodeids')),
    ints('nodes_featureids', join('nodes_featureids')),
    strings('nodes_modes', join('nodes_modes')),
    floats('nodes_values', join('nodes_values')),
    ints('nodes_truenodeids', join('nodes_truenodeids')),
    ints('nodes_falsenodeids', join('nodes_falsenodeids')),
    ints('class_treeids', join('class_treeids')),
    ints('class_nodeids', join('class_nodeids')),
    ints('class_ids', join('class_ids')),
    floats('class_weights', join('class_weights')),
    str('post_transform', 'NONE'),
  ];
}

/**
 * skl2onnx RandomForestClassifier with its defaults: TreeEnsembleClassifier → ZipMap.
 * `labels` numeric gives classlabels_int64s (y was 0, 1, 2); strings give
 * classlabels_strings (y was species names).
 */
export function randomForestZipMap(labels: readonly string[] | 'int64' = 'int64'): Uint8Array {
  const numeric = labels === 'int64';
  const labelAttribute = numeric
    ? ints('classlabels_int64s', [0, 1, 2])
    : strings('classlabels_strings', [...labels]);
  return model(
    {
      node: [
        node(
          'TreeEnsembleClassifier',
          ['float_input'],
          ['label', 'probabilities'],
          [
            numeric
              ? ints('classlabels_int64s', [0, 1, 2])
              : strings('classlabels_strings', [...labels]),
            ...forestAttributes(),
          ],
        ),
        numeric
          ? core('Cast', ['label'], ['output_label'], [int('to', INT64)])
          : core('Identity', ['label'], ['output_label']),
        node('ZipMap', ['probabilities'], ['output_probability'], [labelAttribute]),
      ],
      input: [tensor('float_input', FLOAT, [4])],
      output: [
        tensor('output_label', numeric ? INT64 : STRING, []),
        zipMapOutput('output_probability', numeric ? INT64 : STRING),
      ],
    },
    'skl2onnx',
  );
}

/** skl2onnx with `options={id(clf): {"zipmap": False}}`: `label` + `probabilities` tensors. */
export function logisticRegressionNoZipMap(): Uint8Array {
  return model(
    {
      node: [
        node(
          'LinearClassifier',
          ['float_input'],
          ['label', 'probabilities'],
          [
            ints('classlabels_ints', [0, 1, 2]),
            floats('coefficients', IRIS_COEFFICIENTS),
            floats('intercepts', IRIS_INTERCEPTS),
            int('multi_class', 1),
            str('post_transform', 'SOFTMAX'),
          ],
        ),
      ],
      input: [tensor('float_input', FLOAT, [4])],
      output: [tensor('label', INT64, []), tensor('probabilities', FLOAT, [3])],
    },
    'skl2onnx',
  );
}

/** torch.onnx.export of nn.Linear(4, classes) with no softmax: Gemm → `logits`. */
export function torchLogits(classes = 3): Uint8Array {
  const weights = IRIS_COEFFICIENTS.slice(0, classes * 4);
  const bias = IRIS_INTERCEPTS.slice(0, classes);
  const output = classes === 1 ? 'score' : 'logits';
  return model(
    {
      node: [core('Gemm', ['input', 'weight', 'bias'], [output], [int('transB', 1)])],
      initializer: [
        { name: 'weight', dims: [classes, 4], dataType: FLOAT, floatData: weights },
        { name: 'bias', dims: [classes], dataType: FLOAT, floatData: bias },
      ],
      input: [tensor('input', FLOAT, [4])],
      output: [tensor(output, FLOAT, [classes])],
    },
    'pytorch',
  );
}

/** A PyTorch binary classifier ending in Sigmoid: one probability column. */
export function torchBinarySigmoid(): Uint8Array {
  return model(
    {
      node: [
        core('Gemm', ['input', 'weight', 'bias'], ['score'], [int('transB', 1)]),
        core('Sigmoid', ['score'], ['probability']),
      ],
      initializer: [
        { name: 'weight', dims: [1, 4], dataType: FLOAT, floatData: [0.5, -0.5, 1, 1] },
        { name: 'bias', dims: [1], dataType: FLOAT, floatData: [-3] },
      ],
      input: [tensor('input', FLOAT, [4])],
      output: [tensor('probability', FLOAT, [1])],
    },
    'pytorch',
  );
}

type Leaves = readonly [number, number, number];
const DEFAULT_LEAVES: Leaves = [100, 200, 300];

/** The value a test expects from treeRegressor(leaves) for one row. */
export const treeRegressorValue = (row: readonly number[], leaves: Leaves = DEFAULT_LEAVES) =>
  (row[0] ?? 0) <= 10 ? leaves[0] : (row[1] ?? 0) <= 5 ? leaves[1] : leaves[2];

/**
 * onnxmltools XGBRegressor / skl2onnx RandomForestRegressor: TreeEnsembleRegressor →
 * `variable` float [N, 1]. One tree: x0 ≤ 10 → leaves[0], else x1 ≤ 5 → leaves[1], else leaves[2].
 */
export function treeRegressor(leaves: Leaves = DEFAULT_LEAVES): Uint8Array {
  return model(
    {
      node: [
        node(
          'TreeEnsembleRegressor',
          ['input'],
          ['variable'],
          [
            int('n_targets', 1),
            ints('nodes_treeids', [0, 0, 0, 0, 0]),
            ints('nodes_nodeids', [0, 1, 2, 3, 4]),
            ints('nodes_featureids', [0, 0, 1, 0, 0]),
            strings('nodes_modes', ['BRANCH_LEQ', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF']),
            floats('nodes_values', [10, 0, 5, 0, 0]),
            ints('nodes_truenodeids', [1, 0, 3, 0, 0]),
            ints('nodes_falsenodeids', [2, 0, 4, 0, 0]),
            ints('target_treeids', [0, 0, 0]),
            ints('target_nodeids', [1, 3, 4]),
            ints('target_ids', [0, 0, 0]),
            floats('target_weights', [...leaves]),
            str('post_transform', 'NONE'),
          ],
        ),
      ],
      input: [tensor('input', FLOAT, [2])],
      output: [tensor('variable', FLOAT, [1])],
    },
    'onnxmltools',
  );
}

/**
 * skl2onnx LinearRegression converted with `DoubleTensorType([None, 2])`: the ai.onnx.ml
 * LinearRegressor takes floats only, so the converter emits MatMul + Add in double →
 * `variable` DOUBLE [N, 1]. Here coefficients (1, 1) and intercept 0.25: the value of
 * (1e8, 0.5) is 100000000.75, exact in FP64 and 100000000 in FP32.
 */
export function doubleLinearRegressor(): Uint8Array {
  return model(
    {
      node: [
        core('MatMul', ['input', 'coefficient'], ['multiplied']),
        core('Add', ['multiplied', 'intercept'], ['variable']),
      ],
      initializer: [
        { name: 'coefficient', dims: [2, 1], dataType: DOUBLE, doubleData: [1, 1] },
        { name: 'intercept', dims: [1], dataType: DOUBLE, doubleData: [0.25] },
      ],
      input: [tensor('input', DOUBLE, [2])],
      output: [tensor('variable', DOUBLE, [1])],
    },
    'skl2onnx',
  );
}

/** The value doubleLinearRegressor gives a row, in double arithmetic. */
export const doubleRegressorValue = (row: readonly number[]) =>
  (row[0] ?? 0) + (row[1] ?? 0) + 0.25;

/** The price twoInputRegressor computes (exactly representable in float32). */
export const CITY_CODES: Record<string, number> = { Oslo: 2, Bergen: 1 };
export const housePrice = (rooms: number, city: string, floor: number): number =>
  10 * rooms + 100 * (CITY_CODES[city] ?? 0) + 1 * floor + 5;

/**
 * A skl2onnx pipeline with a ColumnTransformer over three columns, one input each:
 * `rooms` FP32, `city` STRING (LabelEncoder), `floor` INT64 (Cast) → Concat →
 * LinearRegressor → `variable` [N, 1].
 */
export function threeInputRegressor(): Uint8Array {
  return model(
    {
      node: [
        node(
          'LabelEncoder',
          ['city'],
          ['city_code'],
          [
            strings('keys_strings', Object.keys(CITY_CODES)),
            floats('values_floats', Object.values(CITY_CODES)),
            { name: 'default_float', type: A.FLOAT, f: 0 },
          ],
        ),
        core('Cast', ['floor'], ['floor_float'], [int('to', FLOAT)]),
        core('Concat', ['rooms', 'city_code', 'floor_float'], ['merged'], [int('axis', 1)]),
        node(
          'LinearRegressor',
          ['merged'],
          ['variable'],
          [floats('coefficients', [10, 100, 1]), floats('intercepts', [5])],
        ),
      ],
      input: [
        tensor('rooms', FLOAT, [1]),
        tensor('city', STRING, [1]),
        tensor('floor', INT64, [1]),
      ],
      output: [tensor('variable', FLOAT, [1])],
    },
    'skl2onnx',
  );
}

/**
 * A binary classifier with a tuned threshold, as a user writes one on top of a converter's
 * graph: `probabilities` from Softmax, and `label` = 1 when P(1) > 0.3, so a row with
 * P(1) = 0.4 is labelled 1 although argmax says 0.
 */
export function tunedThresholdBinary(): Uint8Array {
  return model(
    {
      node: [
        core('Gemm', ['input', 'weight', 'bias'], ['logits'], [int('transB', 1)]),
        core('Softmax', ['logits'], ['probabilities'], [int('axis', 1)]),
        core('Gather', ['probabilities', 'positive'], ['p_positive'], [int('axis', 1)]),
        core('Greater', ['p_positive', 'threshold'], ['above']),
        core('Cast', ['above'], ['label'], [int('to', INT64)]),
      ],
      initializer: [
        // logits (x0, 0): P(1) = 1 / (1 + e^x0)
        { name: 'weight', dims: [2, 1], dataType: FLOAT, floatData: [1, 0] },
        { name: 'bias', dims: [2], dataType: FLOAT, floatData: [0, 0] },
        { name: 'positive', dims: [], dataType: INT64, int64Data: [1] },
        { name: 'threshold', dims: [], dataType: FLOAT, floatData: [0.3] },
      ],
      input: [tensor('input', FLOAT, [1])],
      output: [tensor('label', INT64, []), tensor('probabilities', FLOAT, [2])],
    },
    'custom',
  );
}

/** A graph whose only output is a ZipMap-free sequence the gateway cannot read. */
export function graphWithTwoFloatOutputs(): Uint8Array {
  return model(
    {
      node: [
        core('Gemm', ['input', 'weight', 'bias'], ['first'], [int('transB', 1)]),
        core('Relu', ['first'], ['second']),
      ],
      initializer: [
        { name: 'weight', dims: [3, 4], dataType: FLOAT, floatData: IRIS_COEFFICIENTS },
        { name: 'bias', dims: [3], dataType: FLOAT, floatData: IRIS_INTERCEPTS },
      ],
      input: [tensor('input', FLOAT, [4])],
      output: [tensor('first', FLOAT, [3]), tensor('second', FLOAT, [3])],
    },
    'custom',
  );
}

/** Writes `bytes` as models/<model>/<version>/model.onnx, with model.json when given. */
export function writeVersion(
  modelsDir: string,
  name: string,
  version: string,
  bytes: Uint8Array,
  manifest?: Record<string, unknown>,
): string {
  const dir = join(modelsDir, name, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), bytes);
  if (manifest) writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
