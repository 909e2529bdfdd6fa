import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeModelgate, StartupError } from '../src/compose.js';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { graphWithTwoFloatOutputs, writeVersion } from './support/converter-graphs.js';
import { readError, readModels, readReadiness } from './support/responses.js';
import { BUNDLED_MODELS, createTestGateway, IRIS_ROW } from './support/test-gateway.js';

const IRIS_V1 = join(BUNDLED_MODELS, 'iris', 'v1');

/** Versions the gateway cannot use, written next to the bundled ones. */
function writeBrokenVersions(modelsDir: string): void {
  // A graph with two float outputs, neither named probabilities, and no model.json to say which.
  writeVersion(modelsDir, 'broken', 'v1', graphWithTwoFloatOutputs());
  // A graph whose input is not what model.json promises.
  const wrong = join(modelsDir, 'iris', 'v3');
  mkdirSync(wrong, { recursive: true });
  copyFileSync(join(IRIS_V1, 'model.onnx'), join(wrong, 'model.onnx'));
  const manifest = JSON.parse(readFileSync(join(IRIS_V1, 'model.json'), 'utf8'));
  manifest.inputs[0].name = 'measurements';
  writeFileSync(join(wrong, 'model.json'), JSON.stringify(manifest));
  // Not ONNX at all.
  const garbage = join(modelsDir, 'iris', 'v4');
  mkdirSync(garbage, { recursive: true });
  writeFileSync(join(garbage, 'model.onnx'), 'not a graph');
  copyFileSync(join(IRIS_V1, 'model.json'), join(garbage, 'model.json'));
}

describe('models that fail to load', () => {
  it('are skipped and reported in GET /models while every other model serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-broken-'));
    const modelsDir = join(dir, 'models');
    cpSync(BUNDLED_MODELS, modelsDir, { recursive: true });
    writeBrokenVersions(modelsDir);
    const again = await createTestGateway({ dir, env: { MODELGATE_MODELS_DIR: modelsDir } });
    try {
      const models = await readModels(await again.request('/models'));
      const failed = Object.fromEntries(models.failed.map((f) => [`${f.model}/${f.version}`, f]));
      expect(Object.keys(failed).sort()).toEqual(['broken/v1', 'iris/v3', 'iris/v4']);
      expect(failed['broken/v1']?.reason).toContain('"output": {"name": "first"}');
      expect(failed['broken/v1']?.graph).toEqual({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [
          { name: 'first', datatype: 'FP32', shape: [-1, 3] },
          { name: 'second', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
      expect(failed['iris/v3']?.reason).toContain('measurements');
      expect(failed['iris/v3']?.graph?.inputs).toEqual([
        { name: 'input', datatype: 'FP32', shape: [-1, 4] },
      ]);
      expect(failed['iris/v3']?.graph?.outputs.map((o) => o.name)).toContain('probabilities');
      const iris = models.models.find((m) => m.name === 'iris');
      expect(iris?.versions.map((v) => v.version)).toEqual(['v1', 'v2']);
      expect(iris?.failed.map((f) => f.version)).toEqual(['v3', 'v4']);

      expect((await again.post('/predict/iris', { inputs: IRIS_ROW })).status).toBe(200);
      expect((await again.request('/v2/health/ready')).status).toBe(200);
      // Loading it by hand fails the same way, with the reason.
      const load = await again.control('POST', '/control/load', { model: 'iris', version: 'v3' });
      expect(load.status).toBe(500);
      expect((await readError(load)).error.message).toContain('measurements');
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a model whose live version is gone is not ready (503) while the others serve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-gone-'));
    try {
      const modelsDir = join(dir, 'models');
      cpSync(BUNDLED_MODELS, modelsDir, { recursive: true });
      const env = { MODELGATE_MODELS_DIR: modelsDir };
      const first = await createTestGateway({ dir, env });
      await first.close();
      rmSync(join(modelsDir, 'penguins', 'v1'), { recursive: true, force: true });
      const gw = await createTestGateway({ dir, env });
      try {
        const res = await gw.post('/predict/penguins', {
          inputs: {
            bill_length_mm: 39,
            bill_depth_mm: 18,
            flipper_length_mm: 181,
            body_mass_g: 3750,
          },
        });
        expect(res.status).toBe(503);
        expect((await readError(res)).error.message).toContain('v1');
        expect((await gw.request('/v2/models/penguins/ready')).status).toBe(503);
        const ready = await gw.request('/v2/health/ready');
        expect(ready.status).toBe(200);
        expect((await readReadiness(ready)).notReady).toEqual([
          { model: 'penguins', version: 'v1', reason: expect.stringContaining('penguins/v1') },
        ]);
        expect((await gw.post('/predict/iris', { inputs: IRIS_ROW })).status).toBe(200);
      } finally {
        await gw.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing models directory stops start-up with one line naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-nodir-'));
    try {
      const config = readConfig({
        MODELGATE_DB: join(dir, 'db.sqlite'),
        MODELGATE_MODELS_DIR: join(dir, 'nowhere'),
        LOG_LEVEL: 'silent',
      });
      const start = composeModelgate(config, createLogger('silent'));
      await expect(start).rejects.toBeInstanceOf(StartupError);
      await expect(start).rejects.toThrow(/^MODELGATE_MODELS_DIR: ".*nowhere" is not a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
