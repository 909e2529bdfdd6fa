import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fp32Bytes, readByteStrings, readFp32 } from './support/binary-tensors.js';
import {
  type Answer,
  callError,
  type InferenceClient,
  inferenceClient,
} from './support/grpc-client.js';
import { present, readPrediction, readReadiness } from './support/responses.js';
import { BUNDLED_MODELS, createTestGateway, type TestGateway } from './support/test-gateway.js';

let gw: TestGateway;
let client: InferenceClient;
beforeAll(async () => {
  gw = await createTestGateway({ grpc: true });
  client = inferenceClient(gw.grpcAddress as string);
});
afterAll(async () => {
  client.close();
  await gw.close();
});

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];
const rowsLogged = async () =>
  (await gw.query<{ n: number }>('SELECT count(*) AS n FROM predictions'))[0]?.n;

async function viaPredict(rows: number[][], headers: Record<string, string> = {}) {
  const res = await gw.post('/predict/iris', { inputs: rows }, headers);
  expect(res.status).toBe(200);
  const body = await readPrediction(res);
  return {
    version: body.version,
    route: body.route,
    labels: body.outputs.map((o) => o.label),
    probabilities: body.outputs.flatMap((o) => Object.values(o.probabilities)),
  };
}

const typedRequest = (rows: number[][], extra: object = {}) => ({
  model_name: 'iris',
  inputs: [
    {
      name: 'input',
      datatype: 'FP32',
      shape: [rows.length, 4],
      contents: { fp32_contents: rows.flat() },
    },
  ],
  ...extra,
});

const rawRequest = (rows: number[][], extra: object = {}) => ({
  model_name: 'iris',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4] }],
  raw_input_contents: [fp32Bytes(rows.flat())],
  ...extra,
});

const param = (answer: Answer<'ModelInfer'>, name: string) => answer.parameters[name]?.string_param;

describe('gRPC health and metadata', () => {
  it('answers ServerLive, ServerReady, ServerMetadata, ModelMetadata and ModelReady', async () => {
    expect(await client.call('ServerLive', {})).toEqual({ live: true });
    expect(await client.call('ServerReady', {})).toEqual({ ready: true });
    expect(await client.call('ServerMetadata', {})).toEqual({
      name: 'modelgate',
      version: '0.1.0',
      extensions: ['binary_tensor_data'],
    });
    const meta = await client.call('ModelMetadata', { name: 'iris' });
    expect(meta).toMatchObject({
      name: 'iris',
      versions: ['v1', 'v2'],
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect(meta.outputs.map((o) => o.name)).toEqual(['probabilities', 'label']);
    expect(await client.call('ModelReady', { name: 'iris' })).toEqual({ ready: true });
    expect(await client.call('ModelReady', { name: 'iris', version: 'v2' })).toEqual({
      ready: true,
    });
  });

  it('an unknown model or version is NOT_FOUND, naming it', async () => {
    const model = await callError(client.call('ModelMetadata', { name: 'tulips' }));
    expect({ code: model.code, details: model.details }).toMatchObject({ code: status.NOT_FOUND });
    expect(model.details).toContain('tulips');
    const version = await callError(client.call('ModelReady', { name: 'iris', version: 'v9' }));
    expect(version.code).toBe(status.NOT_FOUND);
    expect(version.details).toContain('v9');
  });

  it('readiness covers the gRPC listener, on both protocols', async () => {
    gw.gate.setGrpcListener('stopped');
    try {
      expect(await client.call('ServerReady', {})).toEqual({ ready: false });
      const rest = await gw.request('/v2/health/ready');
      expect(rest.status).toBe(503);
      expect((await readReadiness(rest)).listeners).toEqual({ http: 'listening', grpc: 'stopped' });
    } finally {
      gw.gate.setGrpcListener('listening');
    }
    expect((await gw.request('/v2/health/ready')).status).toBe(200);
  });
});

describe('gRPC ModelInfer', () => {
  it('typed contents: the same predictions as /predict, logged like REST', async () => {
    const reference = await viaPredict(ROWS);
    const { response, headers } = await client.callWithHeaders(
      'ModelInfer',
      typedRequest(ROWS, { id: 'grpc-typed' }),
    );
    expect(response).toMatchObject({ model_name: 'iris', model_version: 'v1', id: 'grpc-typed' });
    expect(response.raw_output_contents).toEqual([]);
    const [probabilities, label] = response.outputs;
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 3] });
    expect(probabilities?.contents?.fp32_contents).toEqual(reference.probabilities);
    expect(label?.contents?.bytes_contents.map((b) => b.toString())).toEqual(reference.labels);
    expect(headers.get('x-model-version')).toEqual(['v1']);

    const ids = param(response, 'prediction_ids')?.split(',') as string[];
    expect(ids).toHaveLength(3);
    expect(param(response, 'route')).toBe('live');
    const logged = await gw.query<{ version: string; route: string; label: string }>(
      `SELECT version, route, label FROM predictions WHERE id IN (${ids.map(() => '?')}) ORDER BY id`,
      ...ids,
    );
    expect(logged).toEqual(
      reference.labels.map((label) => ({ version: 'v1', route: 'live', label })),
    );
  });

  it('raw_input_contents in, raw_output_contents out (what Triton clients send and read)', async () => {
    const reference = await viaPredict(ROWS);
    const response = await client.call('ModelInfer', rawRequest(ROWS));
    expect(response.outputs.map((o) => o.contents)).toEqual([null, null]);
    const [probabilities, labels] = response.raw_output_contents;
    expect(readFp32(probabilities as Buffer)).toEqual(reference.probabilities);
    expect(readByteStrings(labels as Buffer)).toEqual(reference.labels);
  });

  it('accepts gzip-compressed messages (grpc-encoding), as Triton clients may send', async () => {
    const reference = await viaPredict(ROWS);
    // 2 is gzip in grpc's compression algorithm enumeration.
    const gzipClient = inferenceClient(gw.grpcAddress as string, {
      'grpc.default_compression_algorithm': 2,
    });
    try {
      const response = await gzipClient.call('ModelInfer', rawRequest(ROWS));
      expect(readByteStrings(present(response.raw_output_contents[1]))).toEqual(reference.labels);
    } finally {
      gzipClient.close();
    }
  });

  it('only the outputs asked for, in the order asked', async () => {
    const response = await client.call(
      'ModelInfer',
      rawRequest(ROWS, { outputs: [{ name: 'label' }] }),
    );
    expect(response.outputs.map((o) => o.name)).toEqual(['label']);
    expect(readByteStrings(present(response.raw_output_contents[0]))).toEqual([
      'setosa',
      'virginica',
      'versicolor',
    ]);
  });

  it('model_version overrides routing, as a REST path version does', async () => {
    const response = await client.call('ModelInfer', typedRequest(ROWS, { model_version: 'v2' }));
    expect(response.model_version).toBe('v2');
    expect(param(response, 'route')).toBe('override');
  });

  it('routes sticky users exactly like /predict: metadata x-user-id or parameters userId', async () => {
    const split = await gw.control('PUT', '/control/split', {
      model: 'iris',
      weights: { v1: 50, v2: 50 },
    });
    expect(split.status).toBe(200);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const user = `sticky-${i}`;
        const rest = await viaPredict([ROWS[0] as number[]], { 'x-user-id': user });
        expect(rest.route).toBe('split');
        seen.add(rest.version);
        const byHeader = await client.call('ModelInfer', rawRequest([ROWS[0] as number[]]), {
          'x-user-id': user,
        });
        const byParameter = await client.call(
          'ModelInfer',
          typedRequest([ROWS[0] as number[]], {
            parameters: { userId: { string_param: user } },
          }),
        );
        expect([byHeader.model_version, byParameter.model_version], user).toEqual([
          rest.version,
          rest.version,
        ]);
        expect(param(byHeader, 'route')).toBe('split');
        // The same stored user hash: per-user comparisons join both protocols' rows.
        const hashes = await gw.query<{ user_hash: string }>(
          'SELECT DISTINCT user_hash FROM predictions WHERE id IN (?, ?)',
          param(byHeader, 'prediction_ids'),
          param(byParameter, 'prediction_ids'),
        );
        expect(hashes).toHaveLength(1);
      }
      // 30 users over a 50/50 split land on both versions (a fixed hash, not chance).
      expect(seen).toEqual(new Set(['v1', 'v2']));
    } finally {
      // Promoting pins every request to live: v2 then v1 leaves v1 serving everyone.
      for (const version of ['v2', 'v1']) {
        expect(
          (await gw.control('POST', '/control/promote', { model: 'iris', version })).status,
        ).toBe(200);
      }
    }
  });

  it('mirrors to the shadow version, logged with shadow_of, as REST', async () => {
    expect(
      (await gw.control('PUT', '/control/shadow', { model: 'iris', version: 'v2', percent: 100 }))
        .status,
    ).toBe(200);
    try {
      const response = await client.call('ModelInfer', rawRequest([ROWS[1] as number[]]), {
        'x-request-id': 'grpc-shadow-req',
      });
      expect([response.model_version, param(response, 'route')]).toEqual(['v1', 'pinned']);
      const served = param(response, 'prediction_ids');
      const rowsOf = async () => {
        await gw.gate.flushLog();
        return await gw.query<{
          id: string;
          version: string;
          route: string;
          shadow_of: string | null;
        }>(
          "SELECT id, version, route, shadow_of FROM predictions WHERE request_id = 'grpc-shadow-req' ORDER BY version",
        );
      };
      // The mirror runs after the answer; a loaded machine may take more than poll's default 1 s.
      await expect.poll(rowsOf, { timeout: 10_000 }).toHaveLength(2);
      expect(await rowsOf()).toEqual([
        expect.objectContaining({ id: served, version: 'v1', shadow_of: null }),
        expect.objectContaining({ version: 'v2', route: 'shadow', shadow_of: served }),
      ]);
    } finally {
      await gw.control('PUT', '/control/shadow', { model: 'iris', version: 'v2', percent: 0 });
    }
  });

  it('bad input is INVALID_ARGUMENT naming the field, unknown model NOT_FOUND; no row written', async () => {
    const before = await rowsLogged();
    const cases: Array<[object, number, string]> = [
      [
        typedRequest(ROWS, {
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [3, 3],
              contents: { fp32_contents: [1, 2, 3] },
            },
          ],
        }),
        status.INVALID_ARGUMENT,
        'inputs[0].shape',
      ],
      [
        typedRequest(ROWS, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }] }),
        status.INVALID_ARGUMENT,
        'inputs[0].data',
      ],
      [
        rawRequest(ROWS, { raw_input_contents: [Buffer.alloc(7)] }),
        status.INVALID_ARGUMENT,
        'needs 48 bytes',
      ],
      [rawRequest(ROWS, { raw_input_contents: [], inputs: [] }), status.INVALID_ARGUMENT, 'inputs'],
      [typedRequest(ROWS, { outputs: [{ name: 'nope' }] }), status.INVALID_ARGUMENT, '"nope"'],
      [typedRequest(ROWS, { model_name: 'tulips' }), status.NOT_FOUND, 'tulips'],
      [typedRequest(ROWS, { model_version: 'v9' }), status.NOT_FOUND, 'v9'],
    ];
    for (const [request, code, mentions] of cases) {
      const error = await callError(client.call('ModelInfer', request));
      expect({ code: error.code, details: error.details }, mentions).toEqual({
        code,
        details: expect.stringContaining(mentions),
      });
    }
    const huge = await callError(
      client.call(
        'ModelInfer',
        rawRequest(ROWS, { raw_input_contents: [Buffer.alloc(2 * 1024 * 1024)] }),
      ),
    );
    expect(huge.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await rowsLogged()).toBe(before);
  });

  it('counts calls in /metrics by method and status', async () => {
    const metrics = await (await gw.request('/metrics')).text();
    expect(metrics).toMatch(/modelgate_grpc_requests_total\{method="ModelInfer",code="OK"\} [1-9]/);
    expect(metrics).toMatch(
      /modelgate_grpc_requests_total\{method="ModelInfer",code="INVALID_ARGUMENT"\} [1-9]/,
    );
  });
});

describe('a model whose live version is gone from disk', () => {
  it('is not ready and answers UNAVAILABLE over gRPC, as REST answers 503', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-grpc-gone-'));
    try {
      const modelsDir = join(dir, 'models');
      cpSync(BUNDLED_MODELS, modelsDir, { recursive: true });
      const env = { MODELGATE_MODELS_DIR: modelsDir };
      await (await createTestGateway({ dir, env })).close();
      rmSync(join(modelsDir, 'penguins', 'v1'), { recursive: true, force: true });
      const gone = await createTestGateway({ dir, env, grpc: true });
      const penguins = inferenceClient(gone.grpcAddress as string);
      try {
        expect(await penguins.call('ModelReady', { name: 'penguins' })).toEqual({ ready: false });
        expect((await gone.request('/v2/models/penguins/ready')).status).toBe(503);
        const error = await callError(
          penguins.call('ModelInfer', {
            model_name: 'penguins',
            inputs: [
              {
                name: 'input',
                datatype: 'FP32',
                shape: [1, 4],
                contents: { fp32_contents: [39, 18, 181, 3750] },
              },
            ],
          }),
        );
        expect(error.code).toBe(status.UNAVAILABLE);
        expect(error.details).toContain('v1');
        // The other models serve, so the replica stays ready.
        expect(await penguins.call('ServerReady', {})).toEqual({ ready: true });
      } finally {
        penguins.close();
        await gone.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
