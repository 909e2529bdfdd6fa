import { request as httpRequest } from 'node:http';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryRequest,
  fp32Bytes,
  fp64Bytes,
  readBinaryResponse,
  readByteStrings,
  readFp32,
} from './support/binary-tensors.js';
import { schemaErrors } from './support/oip-schema.js';
import { parseAs, readInfer, readOipError, readPrediction, schemas } from './support/responses.js';
import { createTestGateway, json, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(async () => {
  await gw.close();
});

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const rowsLogged = async () =>
  (await gw.query<{ n: number }>('SELECT count(*) AS n FROM predictions'))[0]?.n;

/** What /predict answers for the same rows: the reference every other client must match. */
async function viaPredict(rows: number[][]) {
  const res = await gw.post('/predict/iris', { inputs: rows });
  expect(res.status).toBe(200);
  const body = await readPrediction(res);
  return {
    labels: body.outputs.map((o) => o.label),
    probabilities: body.outputs.flatMap((o) => Object.values(o.probabilities)),
  };
}

const binaryInput = (rows: number[][], datatype = 'FP32') => ({
  name: 'input',
  shape: [rows.length, 4],
  datatype,
  parameters: { binary_data_size: rows.length * 4 * (datatype === 'FP64' ? 8 : 4) },
});

const send = (path: string, body: Buffer, headers: Record<string, string>) =>
  gw.request(path, { method: 'POST', headers, body: new Uint8Array(body) });

describe('binary tensor data extension', () => {
  it('binary FP32 input, binary probabilities, JSON labels: the same predictions as /predict', async () => {
    const reference = await viaPredict(ROWS);
    const { body, headers } = binaryRequest(
      {
        id: 'bin-1',
        inputs: [binaryInput(ROWS)],
        outputs: [
          { name: 'probabilities', parameters: { binary_data: true } },
          { name: 'label', parameters: { binary_data: false } },
        ],
      },
      [fp32Bytes(ROWS.flat())],
    );
    const res = await send('/v2/models/iris/infer', body, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { json: header, tensors } = await readBinaryResponse(res);
    expect(schemaErrors('binary_inference_response_header', header)).toBe('');
    expect(header.outputs[0]).toEqual({
      name: 'probabilities',
      datatype: 'FP32',
      shape: [3, 3],
      parameters: { binary_data_size: 36 },
    });
    expect(readFp32(tensors.probabilities as Buffer)).toEqual(reference.probabilities);
    expect(header.outputs[1]?.data).toEqual(reference.labels);
  });

  it('binary_data_output returns every output binary, BYTES length-prefixed; FP64 input accepted', async () => {
    const reference = await viaPredict(ROWS);
    const { body, headers } = binaryRequest(
      { inputs: [binaryInput(ROWS, 'FP64')], parameters: { binary_data_output: true } },
      [fp64Bytes(ROWS.flat())],
    );
    const res = await send('/v2/models/iris/infer', body, headers);
    expect(res.status).toBe(200);
    const { json: header, tensors } = await readBinaryResponse(res);
    expect(schemaErrors('binary_inference_response_header', header)).toBe('');
    expect(readByteStrings(tensors.label as Buffer)).toEqual(reference.labels);
    expect(readFp32(tensors.probabilities as Buffer)).toEqual(reference.probabilities);
    // The rows are logged with their features by name, as from /predict.
    const ids = header.parameters.prediction_ids.split(',');
    const logged = await gw.query<{ input: string }>(
      'SELECT input FROM predictions WHERE id = ?',
      ids[1],
    );
    expect(JSON.parse(logged[0]?.input as string)).toEqual(
      Object.fromEntries(FEATURES.map((f, j) => [f, Math.fround(ROWS[1]?.[j] as number)])),
    );
  });

  it('a JSON request may still ask for binary outputs', async () => {
    const res = await gw.post('/v2/models/iris/infer', {
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: ROWS[0] }],
      outputs: [{ name: 'label', parameters: { binary_data: true } }],
    });
    const { json: header, tensors } = await readBinaryResponse(res);
    expect(header.outputs).toHaveLength(1);
    expect(readByteStrings(tensors.label as Buffer)).toEqual(['setosa']);
  });

  it('refuses binary data that does not add up, naming what is wrong, without a row', async () => {
    const header = { inputs: [binaryInput(ROWS)] };
    const data = fp32Bytes(ROWS.flat());
    const text = Buffer.from(JSON.stringify(header));
    const octets = { 'content-type': 'application/octet-stream' };
    const cases: Array<[string, Buffer, Record<string, string>, string]> = [
      [
        'short data',
        Buffer.concat([text, data.subarray(4)]),
        { 'inference-header-content-length': String(text.length) },
        'binary_data_size',
      ],
      [
        'extra bytes',
        Buffer.concat([text, data, Buffer.from([1])]),
        { 'inference-header-content-length': String(text.length) },
        'add up to 48',
      ],
      [
        'header past the body',
        Buffer.concat([text, data]),
        { 'inference-header-content-length': String(text.length + 100) },
        'Inference-Header-Content-Length',
      ],
      [
        'header not a number',
        Buffer.concat([text, data]),
        { 'inference-header-content-length': 'ten' },
        'Inference-Header-Content-Length',
      ],
      [
        'size that does not fit the shape',
        binaryRequest({ inputs: [{ ...binaryInput(ROWS), shape: [2, 4] }] }, [data]).body,
        binaryRequest({ inputs: [{ ...binaryInput(ROWS), shape: [2, 4] }] }, [data]).headers,
        'needs 32 bytes',
      ],
      [
        'data and binary_data_size both',
        binaryRequest({ inputs: [{ ...binaryInput(ROWS), data: ROWS.flat() }] }, [data]).body,
        binaryRequest({ inputs: [{ ...binaryInput(ROWS), data: ROWS.flat() }] }, [data]).headers,
        'both data and',
      ],
      ['binary bytes without the header', Buffer.concat([text, data]), {}, 'malformed JSON'],
    ];
    const before = await rowsLogged();
    for (const [name, body, headers, mentions] of cases) {
      const res = await send('/v2/models/iris/infer', body, { ...octets, ...headers });
      const answer = await json(res);
      expect(res.status, name).toBe(400);
      expect(schemaErrors('error_response', answer), name).toBe('');
      expect(parseAs(schemas.oipErrorBody, answer).error, name).toContain(mentions);
    }
    expect(await rowsLogged()).toBe(before);
  });

  it('the 1 MiB limit covers the whole body, binary data included', async () => {
    const rows = Array.from({ length: 1000 }, () => ROWS[0] as number[]);
    const { body, headers } = binaryRequest({ inputs: [binaryInput(rows)] }, [
      fp32Bytes(rows.flat()),
      Buffer.alloc(1024 * 1024),
    ]);
    const res = await send('/v2/models/iris/infer', body, headers);
    expect(res.status).toBe(413);
    expect((await readOipError(res)).code).toBe('payload_too_large');
  });
});

const jsonInfer = {
  inputs: [{ name: 'input', shape: [3, 4], datatype: 'FP32', data: ROWS.flat() }],
};

describe('compressed request bodies', () => {
  it('gzip and deflate bodies, JSON or binary, infer like plain ones', async () => {
    const reference = await viaPredict(ROWS);
    const plain = Buffer.from(JSON.stringify(jsonInfer));
    const binary = binaryRequest({ inputs: [binaryInput(ROWS)] }, [fp32Bytes(ROWS.flat())]);
    const sent: Array<[Buffer, Record<string, string>]> = [
      [gzipSync(plain), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      [deflateSync(plain), { 'content-type': 'application/json', 'content-encoding': 'deflate' }],
      // The header length counts the JSON as sent before compression (Triton's client).
      [gzipSync(binary.body), { ...binary.headers, 'content-encoding': 'gzip' }],
    ];
    for (const [body, headers] of sent) {
      const res = await send('/v2/models/iris/infer', body, headers);
      expect(res.status, headers['content-encoding']).toBe(200);
      const answer = await readInfer(res);
      expect(answer.outputs.find((o) => o.name === 'label')?.data).toEqual(reference.labels);
    }
    const predict = await send('/predict/iris', gzipSync(JSON.stringify({ inputs: ROWS })), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(predict.status).toBe(200);
  });

  it('a zip bomb is a 413 on its decompressed size, without a row', async () => {
    const before = await rowsLogged();
    // 8 MiB of spaces (valid JSON whitespace) compress to about 8 KiB.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(JSON.stringify(jsonInfer)), Buffer.alloc(8 * 1024 * 1024, 32)]),
    );
    expect(bomb.length).toBeLessThan(64 * 1024);
    for (const path of ['/v2/models/iris/infer', '/predict/iris']) {
      const res = await send(path, bomb, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(res.status, path).toBe(413);
      expect(await res.text(), path).toContain('decompression');
    }
    expect(await rowsLogged()).toBe(before);
  });

  it('corrupt data is a 400, an unknown encoding a 415', async () => {
    const corrupt = await send('/v2/models/iris/infer', Buffer.from('not gzip at all'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(corrupt.status).toBe(400);
    expect((await readOipError(corrupt)).error).toContain('not valid gzip data');
    const unknown = await send('/v2/models/iris/infer', Buffer.from('{}'), {
      'content-type': 'application/json',
      'content-encoding': 'zstd',
    });
    expect(unknown.status).toBe(415);
    expect((await readOipError(unknown)).error).toContain('Content-Encoding: zstd');
  });
});

describe('compressed responses', () => {
  /** Raw node:http, so the bytes are seen as sent (fetch would inflate them silently). */
  const rawPost = (body: string, acceptEncoding: string) =>
    new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        gw.request('/v2/health/live').then((probe) => {
          const url = new URL(probe.url);
          const req = httpRequest(
            {
              host: url.hostname,
              port: url.port,
              path: '/v2/models/iris/infer',
              method: 'POST',
              headers: { 'content-type': 'application/json', 'accept-encoding': acceptEncoding },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            },
          );
          req.on('error', reject);
          req.end(body);
        }, reject);
      },
    );

  it('a large answer is gzipped when the client accepts it; a small one is not', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => ROWS[i % 3] as number[]);
    const large = JSON.stringify({
      inputs: [{ name: 'input', shape: [200, 4], datatype: 'FP32', data: rows.flat() }],
    });
    const zipped = await rawPost(large, 'gzip');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const answer = parseAs(
      schemas.inferAnswer,
      JSON.parse(gunzipSync(zipped.body).toString('utf8')),
    );
    expect(answer.outputs[1]?.data).toHaveLength(200);
    expect(zipped.body.length).toBeLessThan(JSON.stringify(answer).length / 2);

    const identity = await rawPost(large, 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
    const small = await rawPost(JSON.stringify(jsonInfer), 'gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});
