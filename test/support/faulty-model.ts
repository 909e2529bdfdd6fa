import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { BUNDLED_MODELS } from './test-gateway.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/**
 * Writes a real ONNX model that loads and warms (one row) but fails inside ONNX
 * Runtime for any batch of two or more rows: its Reshape insists on one row.
 * It takes iris's features and labels, so only the runtime can reject it.
 */
export function writeFaultyIrisVersion(modelsDir: string, version: string): void {
  const dir = join(modelsDir, 'iris', version);
  mkdirSync(dir, { recursive: true });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'modelgate test/support/faulty-model.ts',
    graph: {
      name: 'faulty_iris',
      node: [
        { opType: 'Reshape', input: ['input', 'one_row'], output: ['reshaped'], name: 'reshape' },
        { opType: 'MatMul', input: ['reshaped', 'weights'], output: ['logits'], name: 'matmul' },
        {
          opType: 'Softmax',
          input: ['logits'],
          output: ['probabilities'],
          name: 'softmax',
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        },
      ],
      initializer: [
        { name: 'one_row', dims: [2], dataType: INT64, int64Data: [1, 4] },
        {
          name: 'weights',
          dims: [4, 3],
          dataType: FLOAT,
          floatData: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1],
        },
      ],
      input: [
        {
          name: 'input',
          type: {
            tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } },
          },
        },
      ],
      output: [
        {
          name: 'probabilities',
          type: {
            tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }] } },
          },
        },
      ],
    },
  });
  writeFileSync(join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
  copyFileSync(join(BUNDLED_MODELS, 'iris', 'v1', 'model.json'), join(dir, 'model.json'));
}
