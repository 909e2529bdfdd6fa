import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';
import { at, type Matrix, type Vector } from './linear-algebra.js';
import type { Activation, Network } from './network.js';

// onnx-proto is CommonJS with `module.exports = root`, so Node ESM only offers a default export.
const { onnx } = onnxProto;

/** The graph contract the gateway relies on (README "Models on disk", docs/design.md). */
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';
export const IR_VERSION = 8;
export const OPSET = 13;

export interface OnnxMetadata {
  model: string;
  version: string;
  algorithm: string;
  description: string;
  labels: readonly string[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function floatTensor(
  name: string,
  dims: number[],
  values: readonly number[],
): OnnxTypes.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: [...values] };
}

function matrixTensor(name: string, m: Matrix): OnnxTypes.ITensorProto {
  return floatTensor(name, [m.length, at(m, 0).length], m.flat());
}

function vectorTensor(name: string, v: Vector): OnnxTypes.ITensorProto {
  return floatTensor(name, [v.length], v);
}

/** float32 [N, width] with N symbolic so any batch size runs. */
function batchValueInfo(name: string, width: number): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } },
    },
  };
}

function node(opType: string, inputs: string[], output: string): OnnxTypes.INodeProto {
  return { opType, input: inputs, output: [output], name: output };
}

const ACTIVATION_OP: Record<Activation, string> = {
  relu: 'Relu',
  tanh: 'Tanh',
  softmax: 'Softmax',
};

/**
 * input → Sub(mean) → Div(std) → [MatMul → Add → activation]* → probabilities.
 * Standardizing inside the graph lets clients send raw measurements.
 */
export function buildOnnx(network: Network, meta: OnnxMetadata): Uint8Array {
  const lastLayer = at(network.layers, network.layers.length - 1);
  if (lastLayer.activation !== 'softmax') throw new Error('the output layer must be softmax');
  const { mean, std } = network.standardizer;
  const initializer = [vectorTensor('feature_mean', mean), vectorTensor('feature_std', std)];
  const nodes = [
    node('Sub', [INPUT_NAME, 'feature_mean'], 'centered'),
    node('Div', ['centered', 'feature_std'], 'standardized'),
  ];
  let current = 'standardized';
  network.layers.forEach((layer, i) => {
    const last = i === network.layers.length - 1;
    initializer.push(matrixTensor(`dense${i}_weights`, layer.weights));
    initializer.push(vectorTensor(`dense${i}_bias`, layer.bias));
    nodes.push(node('MatMul', [current, `dense${i}_weights`], `dense${i}_matmul`));
    nodes.push(node('Add', [`dense${i}_matmul`, `dense${i}_bias`], `dense${i}_logits`));
    const output = last ? OUTPUT_NAME : `dense${i}_${layer.activation}`;
    const activation = node(ACTIVATION_OP[layer.activation], [`dense${i}_logits`], output);
    if (layer.activation === 'softmax') {
      activation.attribute = [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }];
    }
    nodes.push(activation);
    current = output;
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'modelgate scripts/train-examples.ts',
    docString: meta.description,
    graph: {
      name: `${meta.model}_${meta.version}`,
      node: nodes,
      initializer,
      input: [batchValueInfo(INPUT_NAME, mean.length)],
      output: [batchValueInfo(OUTPUT_NAME, lastLayer.bias.length)],
    },
    metadataProps: [
      { key: 'modelgate.model', value: meta.model },
      { key: 'modelgate.version', value: meta.version },
      { key: 'modelgate.algorithm', value: meta.algorithm },
      { key: 'modelgate.labels', value: JSON.stringify(meta.labels) },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads metadata_props back, for tests and for anyone inspecting a committed file. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}
