import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS with `module.exports = root`, so Node ESM only offers a default export.
const { onnx } = onnxProto;

/** A ZipMap the gateway took off the graph: its input tensor is served instead. */
export interface RemovedZipMap {
  /** The sequence-of-maps output it produced (skl2onnx: output_probability). */
  output: string;
  /** The float [N, classes] tensor it read (now a graph output). */
  input: string;
  /** Its classlabels_int64s or classlabels_strings, as strings. */
  labels: string[];
}

/** What the ONNX file says beyond ONNX Runtime's session metadata. */
export interface GraphFacts {
  zipMaps: RemovedZipMap[];
  /** The op that produces each graph output (e.g. variable → TreeEnsembleRegressor). */
  producers: Record<string, string>;
  /** classlabels of a classifier op (LinearClassifier, TreeEnsembleClassifier, SVMClassifier). */
  classifierLabels: string[] | null;
  /** metadata_props (the bundled models carry modelgate.labels there). */
  metadata: Record<string, string>;
}

const CLASSIFIER_OPS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier']);
const decoder = new TextDecoder();

function classLabels(node: OnnxTypes.INodeProto): string[] | null {
  for (const attribute of node.attribute ?? []) {
    const name = attribute.name ?? '';
    if (name === 'classlabels_int64s' || name === 'classlabels_ints') {
      return (attribute.ints ?? []).map((value) => value.toString());
    }
    if (name === 'classlabels_strings') {
      return (attribute.strings ?? []).map((bytes) => decoder.decode(bytes));
    }
  }
  return null;
}

/**
 * Reads the graph and, when it ends in ZipMap (skl2onnx's default for classifiers),
 * rewrites it: onnxruntime-node returns tensors only and fails on the ZipMap's
 * sequence of maps, so the ZipMap and its output are dropped and the tensor it read
 * becomes a graph output. ONNX Runtime then computes only what the requested outputs
 * need. A graph without ZipMap is returned byte for byte.
 */
export function readGraph(bytes: Uint8Array): { bytes: Uint8Array; facts: GraphFacts } {
  const model = onnx.ModelProto.decode(bytes);
  // Decoded messages have every repeated field (empty when absent); the I-types do not say so.
  const graph = model.graph as OnnxTypes.GraphProto | null;
  const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  if (!graph)
    return { bytes, facts: { zipMaps: [], producers: {}, classifierLabels: null, metadata } };

  const producers: Record<string, string> = {};
  let classifierLabels: string[] | null = null;
  for (const node of graph.node) {
    const opType = node.opType ?? '';
    for (const output of node.output ?? []) producers[output] = opType;
    if (!classifierLabels && CLASSIFIER_OPS.has(opType)) classifierLabels = classLabels(node);
  }

  const outputNames = new Set(graph.output.map((o) => o.name));
  const zipMaps: RemovedZipMap[] = [];
  for (const node of graph.node) {
    const input = node.input?.[0];
    const output = node.output?.[0];
    if (node.opType !== 'ZipMap' || !input || !output || !outputNames.has(output)) continue;
    zipMaps.push({ output, input, labels: classLabels(node) ?? [] });
  }
  if (zipMaps.length === 0)
    return { bytes, facts: { zipMaps, producers, classifierLabels, metadata } };

  const removed = new Set(zipMaps.map((z) => z.output));
  graph.node = graph.node.filter(
    (n) => !(n.opType === 'ZipMap' && removed.has(n.output?.[0] ?? '')),
  );
  graph.output = graph.output.filter((o) => !removed.has(o.name ?? ''));
  for (const zipMap of zipMaps) {
    if (graph.output.some((o) => o.name === zipMap.input)) continue;
    // ZipMap reads only tensor(float) [N, classes].
    graph.output.push({
      name: zipMap.input,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'N' }, { dimValue: zipMap.labels.length }] },
        },
      },
    });
  }
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    facts: { zipMaps, producers, classifierLabels, metadata },
  };
}
