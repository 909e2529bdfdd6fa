import { type ElementType, isElementType } from './element-types.js';
import type { GraphFacts } from './graph-facts.js';
import type { ModelManifest, OutputTransform, Task } from './manifest.js';

/** A graph input or output as ONNX Runtime reports it; -1 for a dimension it does not fix. */
export interface TensorInfo {
  name: string;
  datatype: string;
  shape: number[];
}

/** One graph input and how many of the row's values it takes. */
export interface InputBinding {
  name: string;
  datatype: ElementType;
  /** Values per row: 1 for [N] and [N, 1]. */
  columns: number;
  /** The tensor's shape with -1 for N: [-1] or [-1, columns]. */
  shape: number[];
}

/** Where a feature goes: which input, which column of it. */
export interface FeatureSlot {
  feature: string;
  input: number;
  column: number;
  datatype: ElementType;
}

export type Reading =
  | {
      task: 'classification';
      /** The float output holding probabilities (or scores to transform). */
      scores: string;
      transform: OutputTransform;
      /** Columns of `scores`: labels.length, or 1 for a binary classifier's P(labels[1]). */
      columns: number;
      /** An INT64/STRING output with each row's label; wins over argmax when present. */
      label: string | null;
    }
  | { task: 'regression'; value: string };

/** How the gateway feeds a graph and reads its answer, inferred from the graph and model.json. */
export interface Contract {
  task: Task;
  inputs: InputBinding[];
  slots: FeatureSlot[];
  features: string[];
  /** Empty for regressors. */
  labels: string[];
  reading: Reading;
  /** Output names to request from ONNX Runtime. */
  fetch: string[];
  /** Each decision in words: what was read from where (GET /models, `npm run model:add`). */
  notes: string[];
}

/** A graph the gateway cannot serve as it is, with the model.json line that would fix it. */
export class ContractProblem extends Error {}

const FLOATS = new Set(['FP32', 'FP64']);
const LABEL_TYPES = new Set(['INT64', 'BYTES', 'INT32']);
const CLASSIFIER_OPS = new Set([
  'LinearClassifier',
  'TreeEnsembleClassifier',
  'SVMClassifier',
  'Softmax',
  'Sigmoid',
  'Normalizer',
]);
const REGRESSOR_OPS = new Set(['LinearRegressor', 'TreeEnsembleRegressor', 'SVMRegressor']);
/** Ops whose output is a raw score: a classifier ending in one of these emits logits. */
const LINEAR_OPS = new Set(['Gemm', 'MatMul', 'Add']);
/** Names converters and the bundled models give their probability output. */
const PROBABILITY_NAMES = ['probabilities', 'output_probability', 'probability', 'probs'];

const describe = (t: TensorInfo) => `${t.name} ${t.datatype} ${JSON.stringify(t.shape)}`;
export const describeTensors = (tensors: readonly TensorInfo[]) =>
  tensors.map(describe).join(', ') || 'none';

/** Values per row of a tensor shaped [N, …]: null when a dimension is not fixed. */
function columnsOf(shape: readonly number[]): number | null {
  const rest = shape.slice(1);
  if (rest.some((d) => d < 0)) return null;
  return rest.reduce((a, b) => a * b, 1);
}

function bindInputs(inputs: readonly TensorInfo[], manifest: ModelManifest): InputBinding[] {
  const positional = Array.isArray(manifest.features)
    ? manifest.features
    : manifest.inputs?.[0]?.features;
  for (const declared of manifest.inputs ?? []) {
    if (!inputs.some((input) => input.name === declared.name)) {
      throw new ContractProblem(
        `model.json inputs names "${declared.name}", which the graph does not have (inputs: ${describeTensors(inputs)})`,
      );
    }
  }
  return inputs.map((input) => {
    if (!isElementType(input.datatype)) {
      throw new ContractProblem(
        `input "${input.name}" has element type ${input.datatype}, which the gateway cannot send (FP32, FP64, INT32, INT64, BOOL, BYTES)`,
      );
    }
    if (input.shape.length > 2 && columnsOf(input.shape) === null) {
      throw new ContractProblem(
        `input "${input.name}" has shape ${JSON.stringify(input.shape)}: only [N] or [N, columns] inputs are fed row by row`,
      );
    }
    let columns = input.shape.length <= 1 ? 1 : columnsOf(input.shape);
    if (columns === null) {
      // [N, ?]: the feature names say how wide it is.
      if (inputs.length === 1 && positional) columns = positional.length;
      else {
        throw new ContractProblem(
          `input "${input.name}" has shape ${JSON.stringify(input.shape)} with no fixed column count; name its columns in model.json: "features": ["a", "b", …]`,
        );
      }
    }
    const shape = input.shape.length <= 1 ? [-1] : [-1, columns];
    return { name: input.name, datatype: input.datatype, columns, shape };
  });
}

function slotsFor(inputs: readonly InputBinding[], manifest: ModelManifest): FeatureSlot[] {
  const all = inputs.flatMap((binding, input) =>
    Array.from({ length: binding.columns }, (_, column) => ({ input, column, binding })),
  );
  const features = manifest.features;
  if (features && !Array.isArray(features)) {
    // feature → input name, for one-column inputs (a ColumnTransformer's).
    const byName = new Map(inputs.map((b, i) => [b.name, i]));
    const mapped = Object.entries(features).map(([feature, name]) => {
      const input = byName.get(name);
      if (input === undefined) {
        throw new ContractProblem(
          `model.json features.${feature}: the graph has no input "${name}" (inputs: ${inputs.map((b) => b.name).join(', ')})`,
        );
      }
      const binding = inputs[input] as InputBinding;
      if (binding.columns !== 1) {
        throw new ContractProblem(
          `model.json features.${feature}: input "${name}" has ${binding.columns} columns; map features to one-column inputs or list column names: "features": [..]`,
        );
      }
      return { feature, input, column: 0, datatype: binding.datatype };
    });
    const missing = inputs.filter((_, i) => !mapped.some((s) => s.input === i));
    if (missing.length > 0) {
      throw new ContractProblem(
        `model.json features maps no feature to input(s) ${missing.map((b) => `"${b.name}"`).join(', ')}`,
      );
    }
    return mapped;
  }
  const names =
    features ??
    manifest.inputs?.[0]?.features ??
    (inputs.length === 1
      ? all.map((_, j) => `f${j}`)
      : all.map(({ binding, column }) =>
          binding.columns === 1 ? binding.name : `${binding.name}_${column}`,
        ));
  if (names.length !== all.length) {
    throw new ContractProblem(
      `model.json names ${names.length} features but the graph's inputs take ${all.length} values per row (${describeTensors(inputs)})`,
    );
  }
  return all.map(({ input, column, binding }, j) => ({
    feature: names[j] as string,
    input,
    column,
    datatype: binding.datatype,
  }));
}

/** The float output to read, and why. */
function chooseScores(
  outputs: readonly TensorInfo[],
  facts: GraphFacts,
  manifest: ModelManifest,
): { output: TensorInfo; why: string } {
  const floats = outputs.filter((o) => FLOATS.has(o.datatype));
  if (manifest.output) {
    const named = outputs.find((o) => o.name === manifest.output?.name);
    if (!named || !FLOATS.has(named.datatype)) {
      throw new ContractProblem(
        `model.json output.name "${manifest.output.name}" is not a float output of the graph (outputs: ${describeTensors(outputs)})`,
      );
    }
    return { output: named, why: 'model.json output.name' };
  }
  const zipMap = facts.zipMaps[0];
  const zipInput = zipMap && floats.find((o) => o.name === zipMap.input);
  if (zipMap && zipInput) {
    return {
      output: zipInput,
      why: `the tensor "${zipMap.input}" that feeds the ZipMap "${zipMap.output}" (ZipMap removed at load)`,
    };
  }
  const byName = PROBABILITY_NAMES.map((n) => floats.find((o) => o.name === n)).find(Boolean);
  if (byName) return { output: byName, why: `the output named "${byName.name}"` };
  const [only, ...more] = floats;
  if (only && more.length === 0) return { output: only, why: 'the only float output' };
  const first = floats[0]?.name ?? 'name';
  throw new ContractProblem(
    floats.length === 0
      ? `the graph has no float output to read (outputs: ${describeTensors(outputs)})`
      : `the graph has ${floats.length} float outputs and none is named "probabilities" (outputs: ${describeTensors(outputs)}); say which in model.json: "output": {"name": "${first}"}`,
  );
}

function inferTask(
  scores: TensorInfo,
  columns: number | null,
  labelOutput: TensorInfo | undefined,
  facts: GraphFacts,
  manifest: ModelManifest,
): { task: Task; why: string } {
  if (manifest.task) return { task: manifest.task, why: 'model.json task' };
  if (manifest.labels) return { task: 'classification', why: 'model.json labels' };
  if (facts.zipMaps.length > 0) return { task: 'classification', why: 'the graph ends in ZipMap' };
  if (labelOutput) {
    return { task: 'classification', why: `the graph has a label output "${labelOutput.name}"` };
  }
  const producer = facts.producers[scores.name] ?? '';
  if (REGRESSOR_OPS.has(producer)) return { task: 'regression', why: `${producer} produces it` };
  if (CLASSIFIER_OPS.has(producer)) {
    return { task: 'classification', why: `${producer} produces it` };
  }
  if (manifest.output?.transform && manifest.output.transform !== 'none') {
    return { task: 'classification', why: 'model.json output.transform' };
  }
  if (columns === 1) return { task: 'regression', why: 'one float value per row' };
  return { task: 'classification', why: `${columns ?? 'several'} float values per row` };
}

function inferLabels(
  columns: number | null,
  facts: GraphFacts,
  manifest: ModelManifest,
): { labels: string[]; why: string } {
  if (manifest.labels) return { labels: manifest.labels, why: 'model.json labels' };
  const zipLabels = facts.zipMaps[0]?.labels;
  if (zipLabels && zipLabels.length > 0)
    return { labels: zipLabels, why: 'the ZipMap classlabels' };
  if (facts.classifierLabels && facts.classifierLabels.length > 0) {
    return { labels: facts.classifierLabels, why: "the classifier op's classlabels" };
  }
  const stored = facts.metadata['modelgate.labels'];
  if (stored) {
    try {
      const parsed: unknown = JSON.parse(stored);
      if (Array.isArray(parsed) && parsed.every((l) => typeof l === 'string')) {
        return { labels: parsed, why: 'metadata_props modelgate.labels' };
      }
    } catch {
      // Not ours to trust; fall through to positional labels.
    }
  }
  if (columns === null) {
    throw new ContractProblem(
      'the probability output has no fixed column count; list the classes in model.json: "labels": ["a", "b", …]',
    );
  }
  const count = columns === 1 ? 2 : columns;
  return {
    labels: Array.from({ length: count }, (_, i) => String(i)),
    why: 'class positions (no labels in the graph)',
  };
}

/**
 * How to serve a graph: its inputs and features, its task, its labels and which
 * output holds what. Pure: the facts come from ONNX Runtime's metadata and the proto.
 */
export function inferContract(
  graph: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[]; facts: GraphFacts },
  manifest: ModelManifest,
): Contract {
  const { facts } = graph;
  if (graph.inputs.length === 0) throw new ContractProblem('the graph has no inputs');
  const inputs = bindInputs(graph.inputs, manifest);
  const slots = slotsFor(inputs, manifest);
  const notes: string[] = [];
  const { output: scores, why: scoresWhy } = chooseScores(graph.outputs, facts, manifest);
  const columns = scores.shape.length <= 1 ? 1 : columnsOf(scores.shape);
  const labelName = manifest.output?.label;
  const labelOutput = labelName
    ? graph.outputs.find((o) => o.name === labelName)
    : graph.outputs.find((o) => LABEL_TYPES.has(o.datatype) && o.shape.length <= 2);
  if (labelName && (!labelOutput || !LABEL_TYPES.has(labelOutput.datatype))) {
    throw new ContractProblem(
      `model.json output.label "${labelName}" is not an INT64 or string output of the graph (outputs: ${describeTensors(graph.outputs)})`,
    );
  }
  const { task, why: taskWhy } = inferTask(scores, columns, labelOutput, facts, manifest);
  notes.push(`task ${task}: ${taskWhy}`);

  if (task === 'regression') {
    if (columns !== 1) {
      throw new ContractProblem(
        `a regressor's output must hold one value per row ([N] or [N, 1]); "${scores.name}" is ${JSON.stringify(scores.shape)}`,
      );
    }
    notes.push(`value: "${scores.name}", ${scoresWhy}`);
    return {
      task,
      inputs,
      slots,
      features: slots.map((s) => s.feature),
      labels: [],
      reading: { task, value: scores.name },
      fetch: [scores.name],
      notes,
    };
  }

  const { labels, why: labelsWhy } = inferLabels(columns, facts, manifest);
  const producer = facts.producers[scores.name] ?? '';
  const transform: OutputTransform =
    manifest.output?.transform ??
    (LINEAR_OPS.has(producer) && facts.zipMaps.length === 0
      ? columns === 1
        ? 'sigmoid'
        : 'softmax'
      : 'none');
  const width = columns ?? labels.length;
  if (width !== labels.length && !(width === 1 && labels.length === 2)) {
    throw new ContractProblem(
      `"${scores.name}" has ${width} columns but there are ${labels.length} labels (${labelsWhy}); fix "labels" in model.json`,
    );
  }
  notes.push(`probabilities: "${scores.name}", ${scoresWhy}`);
  if (width === 1)
    notes.push(`binary: one column read as P("${labels[1]}"), P("${labels[0]}") = 1 − it`);
  if (transform !== 'none') {
    notes.push(
      `${transform} applied to "${scores.name}"${manifest.output?.transform ? ' (model.json)' : ` (${producer} emits raw scores)`}`,
    );
  }
  notes.push(`labels ${JSON.stringify(labels)}: ${labelsWhy}`);
  if (labelOutput) notes.push(`label per row: "${labelOutput.name}" (wins over argmax)`);
  return {
    task,
    inputs,
    slots,
    features: slots.map((s) => s.feature),
    labels,
    reading: {
      task,
      scores: scores.name,
      transform,
      columns: width,
      label: labelOutput?.name ?? null,
    },
    fetch: labelOutput ? [scores.name, labelOutput.name] : [scores.name],
    notes,
  };
}
