import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addModel } from '../src/models/add-model.js';
import {
  graphWithTwoFloatOutputs,
  logisticRegressionZipMap,
  torchLogits,
} from './support/converter-graphs.js';
import { readPrediction } from './support/responses.js';
import { createTestGateway, type TestGateway } from './support/test-gateway.js';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-add-'));
  gw = await createTestGateway({ copyModels: true });
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

function exported(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

const add = async (options: Partial<Parameters<typeof addModel>[0]> & { file: string }) => {
  const lines: string[] = [];
  const result = await addModel(
    {
      model: 'added',
      version: 'v1',
      modelsDir: gw.modelsDir,
      manifest: {},
      gatewayUrl: 'http://localhost:8080',
      ...options,
    },
    (line) => lines.push(line),
  );
  return { ...result, text: lines.join('\n') };
};

describe('npm run model:add', () => {
  it('prints the contract of a skl2onnx ZipMap export, copies it without model.json, and the load call serves it', async () => {
    const { text, dir: target } = await add({
      file: exported('lr.onnx', logisticRegressionZipMap()),
    });
    expect(text).toContain('inputs:   float_input FP32 [-1,4]');
    expect(text).toContain('task:     classification');
    expect(text).toContain('labels:   0, 1, 2');
    expect(text).toContain('ZipMap');
    expect(text).toMatch(/probe \(a row of zeros\): 0 [\d.]+, 1 [\d.]+, 2 [\d.]+ → label \d/);
    expect(text).toContain('/control/load');
    expect(text).toContain('{"model":"added","version":"v1"}');
    expect(existsSync(join(target, 'model.onnx'))).toBe(true);
    expect(existsSync(join(target, 'model.json'))).toBe(false);

    const load = await gw.control('POST', '/control/load', { model: 'added', version: 'v1' });
    expect(load.status, JSON.stringify(await load.clone().json())).toBe(200);
    const res = await gw.post('/predict/added', { inputs: [[5.1, 3.5, 1.4, 0.2]] });
    expect(res.status).toBe(200);
    expect(Object.keys((await readPrediction(res)).outputs[0]?.probabilities ?? {})).toEqual([
      '0',
      '1',
      '2',
    ]);
  });

  it('writes model.json with only what the flags added, and runs the probe row given', async () => {
    const { text, dir: target } = await add({
      file: exported('logits.onnx', torchLogits()),
      version: 'v2',
      manifest: { output: { name: 'logits', transform: 'softmax' }, labels: ['a', 'b', 'c'] },
      probe: [6, 2.9, 4.5, 1.5],
    });
    expect(text).toContain('softmax applied to "logits" (model.json)');
    expect(text).toContain('probe ([6,2.9,4.5,1.5])');
    expect(JSON.parse(readFileSync(join(target, 'model.json'), 'utf8'))).toEqual({
      output: { name: 'logits', transform: 'softmax' },
      labels: ['a', 'b', 'c'],
    });
  });

  it('refuses a graph it cannot serve with its actual inputs and outputs and the model.json line, copying nothing', async () => {
    await expect(
      add({ file: exported('two.onnx', graphWithTwoFloatOutputs()), version: 'v3' }),
    ).rejects.toThrow(
      /"output": \{"name": "first"\}[\s\S]*graph inputs: {2}input FP32 \[-1,4\][\s\S]*graph outputs: first FP32 \[-1,3\], second FP32 \[-1,3\]/,
    );
    expect(existsSync(join(gw.modelsDir, 'added', 'v3'))).toBe(false);
    await expect(
      add({ file: exported('again.onnx', logisticRegressionZipMap()), version: 'v1' }),
    ).rejects.toThrow('--force');
  });

  it('refuses a model.json the gateway would refuse, naming the field, copying nothing', async () => {
    await expect(
      add({
        file: exported('bad-manifest.onnx', logisticRegressionZipMap()),
        version: 'v4',
        manifest: { labels: ['only-one'] },
      }),
    ).rejects.toThrow(/^model\.json labels: /);
    expect(existsSync(join(gw.modelsDir, 'added', 'v4'))).toBe(false);
  });

  it('as a command: exit code 2 and the reason on stderr', async () => {
    const run = promisify(execFile);
    const failure = await run(
      'npx',
      [
        'tsx',
        'src/models/add-cli.ts',
        exported('cli.onnx', graphWithTwoFloatOutputs()),
        '--model',
        'cli',
        '--version',
        'v1',
      ],
      { cwd: ROOT, env: { ...process.env, MODELGATE_MODELS_DIR: gw.modelsDir } },
    ).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('graph outputs: first FP32');
    expect(existsSync(join(gw.modelsDir, 'cli'))).toBe(false);
  });
});
