import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryRequest,
  fp32Bytes,
  fp64Bytes,
  readBinaryResponse,
} from './support/binary-tensors.js';
import {
  doubleLinearRegressor,
  doubleRegressorValue,
  housePrice,
  threeInputRegressor,
  treeRegressor,
  treeRegressorValue,
  writeVersion,
} from './support/converter-graphs.js';
import { callError, type InferenceClient, inferenceClient } from './support/grpc-client.js';
import { present, readInfer, readModelMetadata, readValuePrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * The Open Inference Protocol for what converters emit besides iris-like classifiers:
 * a regressor whose graph is FP64 (skl2onnx with DoubleTensorType), an FP32 regressor,
 * and a three-input pipeline (FP32, STRING, INT64), over REST (JSON and binary) and gRPC
 * (typed and raw contents).
 */
let dir: string;
let gw: TestGateway;
let client: InferenceClient;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-oip-regressors-'));
  const models = join(dir, 'models');
  writeVersion(models, 'exact', 'v1', doubleLinearRegressor());
  writeVersion(models, 'price', 'v1', treeRegressor());
  writeVersion(models, 'house', 'v1', threeInputRegressor());
  gw = await createTestGateway({ dir, grpc: true, env: { MODELGATE_MODELS_DIR: models } });
  client = inferenceClient(gw.grpcAddress as string);
});
afterAll(async () => {
  client.close();
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Values FP32 cannot hold: 1e8 + 0.75 rounds to 1e8 in FP32. */
const EXACT_ROWS = [
  [1e8, 0.5],
  [-3.125, 1e-9],
];
const EXACT_VALUES = EXACT_ROWS.map(doubleRegressorValue);

const readFp64 = (bytes: Buffer) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
};
/** BYTES elements as the binary extension lays them out: a 4-byte LE length, then UTF-8. */
const byteStrings = (values: readonly string[]) =>
  Buffer.concat(
    values.flatMap((value) => {
      const text = Buffer.from(value, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length, 0);
      return [length, text];
    }),
  );
const int64Bytes = (values: readonly number[]) => {
  const bytes = Buffer.alloc(values.length * 8);
  for (const [i, value] of values.entries()) bytes.writeBigInt64LE(BigInt(value), i * 8);
  return bytes;
};

describe('an FP64 regressor answers in FP64', () => {
  const restInput = {
    name: 'input',
    shape: [EXACT_ROWS.length, 2],
    datatype: 'FP64',
    data: EXACT_ROWS.flat(),
  };

  it('says FP64 in its metadata, REST and gRPC', async () => {
    const expected = [{ name: 'variable', datatype: 'FP64', shape: [-1, 1] }];
    expect((await readModelMetadata(await gw.request('/v2/models/exact'))).outputs).toEqual(
      expected,
    );
    const meta = await client.call('ModelMetadata', { name: 'exact' });
    expect(meta.outputs).toEqual(expected);
    expect(meta.inputs).toEqual([{ name: 'input', datatype: 'FP64', shape: [-1, 2] }]);
  });

  it('REST JSON: the values to the last bit, as /predict gives them', async () => {
    const res = await gw.post('/v2/models/exact/infer', { inputs: [restInput] });
    expect(res.status).toBe(200);
    expect((await readInfer(res)).outputs).toEqual([
      { name: 'variable', datatype: 'FP64', shape: [2, 1], data: EXACT_VALUES },
    ]);
    expect(EXACT_VALUES[0]).toBe(100000000.75);
    const predicted = await readValuePrediction(
      await gw.post('/predict/exact', { inputs: EXACT_ROWS }),
    );
    expect(predicted.outputs).toEqual(EXACT_VALUES.map((value) => ({ value })));
  });

  it('REST binary: 8 bytes per value, little-endian doubles', async () => {
    const { body, headers } = binaryRequest(
      {
        inputs: [{ ...restInput, data: undefined, parameters: { binary_data_size: 8 * 4 } }],
        parameters: { binary_data_output: true },
      },
      [fp64Bytes(EXACT_ROWS.flat())],
    );
    const res = await gw.request('/v2/models/exact/infer', { method: 'POST', body, headers });
    expect(res.status).toBe(200);
    const { json: header, tensors } = await readBinaryResponse(res);
    expect(header.outputs).toEqual([
      {
        name: 'variable',
        datatype: 'FP64',
        shape: [2, 1],
        parameters: { binary_data_size: 16 },
      },
    ]);
    expect(readFp64(tensors.variable as Buffer)).toEqual(EXACT_VALUES);
  });

  it('gRPC: fp64_contents for typed requests, 8-byte raw_output_contents for raw ones', async () => {
    const typed = await client.call('ModelInfer', {
      model_name: 'exact',
      inputs: [
        {
          name: 'input',
          datatype: 'FP64',
          shape: [2, 2],
          contents: { fp64_contents: EXACT_ROWS.flat() },
        },
      ],
    });
    expect(typed.outputs).toHaveLength(1);
    expect(typed.outputs[0]).toMatchObject({ name: 'variable', datatype: 'FP64', shape: [2, 1] });
    expect(typed.outputs[0]?.contents?.fp64_contents).toEqual(EXACT_VALUES);
    expect(typed.outputs[0]?.contents?.fp32_contents).toEqual([]);

    const raw = await client.call('ModelInfer', {
      model_name: 'exact',
      inputs: [{ name: 'input', datatype: 'FP64', shape: [2, 2] }],
      raw_input_contents: [fp64Bytes(EXACT_ROWS.flat())],
    });
    expect(raw.outputs[0]).toMatchObject({ name: 'variable', datatype: 'FP64', shape: [2, 1] });
    expect(raw.raw_output_contents).toHaveLength(1);
    expect(readFp64(present(raw.raw_output_contents[0]))).toEqual(EXACT_VALUES);
  });

  it('an FP32 regressor still answers FP32', async () => {
    const rows = [
      [3, 0],
      [20, 9],
    ];
    const res = await gw.post('/v2/models/price/infer', {
      inputs: [{ name: 'input', shape: [2, 2], datatype: 'FP32', data: rows.flat() }],
    });
    expect((await readInfer(res)).outputs).toEqual([
      {
        name: 'variable',
        datatype: 'FP32',
        shape: [2, 1],
        data: rows.map((r) => treeRegressorValue(r)),
      },
    ]);
    const typed = await client.call('ModelInfer', {
      model_name: 'price',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [2, 2],
          contents: { fp32_contents: rows.flat() },
        },
      ],
    });
    expect(typed.outputs[0]).toMatchObject({ name: 'variable', datatype: 'FP32', shape: [2, 1] });
    expect(typed.outputs[0]?.contents?.fp32_contents).toEqual(
      rows.map((r) => treeRegressorValue(r)),
    );
    const raw = await client.call('ModelInfer', {
      model_name: 'price',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 2] }],
      raw_input_contents: [fp32Bytes(rows.flat())],
    });
    expect(raw.raw_output_contents[0]).toHaveLength(8);
  });
});

describe('gRPC for a three-input pipeline (FP32, BYTES, INT64)', () => {
  const HOUSES = [
    { rooms: 3, city: 'Oslo', floor: 2 },
    { rooms: 4, city: 'Bergen', floor: 7 },
    { rooms: 2.5, city: 'Paris', floor: 11 },
  ];
  const PRICES = HOUSES.map((h) => housePrice(h.rooms, h.city, h.floor));
  const shape = [HOUSES.length, 1];

  it('lists each input with its own datatype in ModelMetadata', async () => {
    const meta = await client.call('ModelMetadata', { name: 'house' });
    expect(meta.inputs).toEqual([
      { name: 'rooms', datatype: 'FP32', shape: [-1, 1] },
      { name: 'city', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'floor', datatype: 'INT64', shape: [-1, 1] },
    ]);
    expect(meta.outputs).toEqual([{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }]);
  });

  it('typed contents, one tensor per input in any order: the prices /predict gives, logged by feature', async () => {
    const answer = await client.call('ModelInfer', {
      model_name: 'house',
      inputs: [
        {
          name: 'floor',
          datatype: 'INT64',
          shape,
          contents: { int64_contents: HOUSES.map((h) => h.floor) },
        },
        {
          name: 'city',
          datatype: 'BYTES',
          shape,
          contents: { bytes_contents: HOUSES.map((h) => Buffer.from(h.city)) },
        },
        {
          name: 'rooms',
          datatype: 'FP32',
          shape,
          contents: { fp32_contents: HOUSES.map((h) => h.rooms) },
        },
      ],
    });
    expect(answer.outputs[0]?.contents?.fp32_contents).toEqual(PRICES);
    const predicted = await readValuePrediction(
      await gw.post('/predict/house', { instances: HOUSES }),
    );
    expect(predicted.outputs).toEqual(PRICES.map((value) => ({ value })));
    const ids = present(answer.parameters.prediction_ids?.string_param).split(',');
    const [logged] = await gw.query<{ input: string }>(
      'SELECT input FROM predictions WHERE id = ?',
      ids[1],
    );
    expect(JSON.parse(logged?.input ?? '')).toEqual(HOUSES[1]);
  });

  it('raw_input_contents: FP32, length-prefixed BYTES and INT64, as Triton clients send them', async () => {
    const answer = await client.call('ModelInfer', {
      model_name: 'house',
      inputs: [
        { name: 'rooms', datatype: 'FP32', shape },
        { name: 'city', datatype: 'BYTES', shape },
        { name: 'floor', datatype: 'INT64', shape },
      ],
      raw_input_contents: [
        fp32Bytes(HOUSES.map((h) => h.rooms)),
        byteStrings(HOUSES.map((h) => h.city)),
        int64Bytes(HOUSES.map((h) => h.floor)),
      ],
    });
    const bytes = answer.raw_output_contents[0] as Buffer;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    expect(Array.from({ length: 3 }, (_, i) => view.getFloat32(i * 4, true))).toEqual(PRICES);
  });

  it('a tensor of the wrong datatype is INVALID_ARGUMENT naming the input; no row', async () => {
    const before = (
      await gw.query<{ n: number }>("SELECT count(*) AS n FROM predictions WHERE model = 'house'")
    )[0]?.n;
    const error = await callError(
      client.call('ModelInfer', {
        model_name: 'house',
        inputs: [
          { name: 'rooms', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [3] } },
          { name: 'city', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [1] } },
          { name: 'floor', datatype: 'INT64', shape: [1, 1], contents: { int64_contents: [2] } },
        ],
      }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('input "city" expects BYTES');
    const after = (
      await gw.query<{ n: number }>("SELECT count(*) AS n FROM predictions WHERE model = 'house'")
    )[0]?.n;
    expect(after).toBe(before);
  });
});
