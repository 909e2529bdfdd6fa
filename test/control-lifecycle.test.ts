import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readControlView, readError, readPrediction } from './support/responses.js';
import { BUNDLED_MODELS, createTestGateway, IRIS_ROW } from './support/test-gateway.js';

describe('deployment state survives a restart', () => {
  it('start, promote, stop, start again → the same live version and history', async () => {
    const first = await createTestGateway();
    expect(
      (await first.control('POST', '/control/promote', { model: 'iris', version: 'v2' })).status,
    ).toBe(200);
    const dir = first.dir;
    await first.gate.close();

    const second = await createTestGateway({ dir });
    try {
      const answer = await readPrediction(await second.post('/predict/iris', { inputs: IRIS_ROW }));
      expect(answer).toMatchObject({ version: 'v2', route: 'pinned' });
      const view = await readControlView(await second.control('GET', '/control/iris'));
      expect(view.deployment).toMatchObject({ live: 'v2', standby: 'v1', history: ['v1'] });
      expect(view.events.map((e) => e.action)).toEqual(['promote', 'init']);
    } finally {
      await second.close();
    }
  });
});

describe('hot load and unload', () => {
  it('loads a version dropped into the models directory, serves it, then unloads it', async () => {
    const gw = await createTestGateway({ copyModels: true });
    try {
      cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(gw.modelsDir, 'iris', 'v3'), {
        recursive: true,
      });
      const before = await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-model-version': 'v3' },
      );
      expect(before.status).toBe(404);

      const loaded = await gw.control('POST', '/control/load', { model: 'iris', version: 'v3' });
      expect(loaded.status).toBe(200);
      expect((await readControlView(loaded)).loaded).toEqual(['v1', 'v2', 'v3']);
      const served = await gw.post(
        '/predict/iris',
        { inputs: IRIS_ROW },
        { 'x-model-version': 'v3' },
      );
      expect(await readPrediction(served)).toMatchObject({ version: 'v3', route: 'override' });

      const unloaded = await gw.control('POST', '/control/unload', {
        model: 'iris',
        version: 'v3',
      });
      expect(unloaded.status).toBe(200);
      expect((await readControlView(unloaded)).loaded).toEqual(['v1', 'v2']);
      expect(
        (await gw.post('/predict/iris', { inputs: IRIS_ROW }, { 'x-model-version': 'v3' })).status,
      ).toBe(404);
      const actions = await gw.query<{ action: string }>(
        "SELECT action FROM deployment_events WHERE model = 'iris' ORDER BY id",
      );
      expect(actions.map((a) => a.action)).toEqual(['init', 'load', 'unload']);
    } finally {
      await gw.close();
    }
  });

  it('answers a model file on disk that cannot be loaded with a 500, and changes nothing', async () => {
    const gw = await createTestGateway({ copyModels: true });
    try {
      const dir = join(gw.modelsDir, 'iris', 'v3');
      cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), dir, { recursive: true });
      writeFileSync(join(dir, 'model.onnx'), 'not an ONNX graph');
      const res = await gw.control('POST', '/control/load', { model: 'iris', version: 'v3' });
      // The caller asked for a version that exists; the file is the server's problem.
      expect(res.status).toBe(500);
      const { error } = await readError(res);
      expect(error.code).toBe('model_load_failed');
      expect(error.message).toContain('iris/v3');
      const actions = await gw.query<{ action: string }>(
        "SELECT action FROM deployment_events WHERE model = 'iris' ORDER BY id",
      );
      expect(actions.map((a) => a.action)).toEqual(['init']);
    } finally {
      await gw.close();
    }
  });

  it('promotes a version that was not loaded yet by loading and warming it first', async () => {
    const gw = await createTestGateway({ copyModels: true });
    try {
      cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(gw.modelsDir, 'iris', 'v3'), {
        recursive: true,
      });
      const res = await gw.control('POST', '/control/promote', { model: 'iris', version: 'v3' });
      expect(res.status).toBe(200);
      expect((await readControlView(res)).deployment).toMatchObject({ live: 'v3', standby: 'v1' });
      expect(
        (await readPrediction(await gw.post('/predict/iris', { inputs: IRIS_ROW }))).version,
      ).toBe('v3');
    } finally {
      await gw.close();
    }
  });
});

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('loading a version again', () => {
  it('is a no-op for the same file, a 409 naming both hashes for a changed one, and a one-step reload with "reload": true', async () => {
    const gw = await createTestGateway({ copyModels: true });
    try {
      const v3 = join(gw.modelsDir, 'iris', 'v3');
      cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), v3, { recursive: true });
      const load = (body: Record<string, unknown> = {}) =>
        gw.control('POST', '/control/load', { model: 'iris', version: 'v3', ...body });
      const v3Answer = async () => {
        const res = await gw.post(
          '/predict/iris',
          { inputs: IRIS_ROW },
          { 'x-model-version': 'v3' },
        );
        expect(res.status).toBe(200);
        return JSON.stringify((await readPrediction(res)).outputs[0]);
      };
      const events = () =>
        gw.query<{ action: string; detail: string | null }>(
          "SELECT action, detail FROM deployment_events WHERE model = 'iris' ORDER BY id",
        );
      const oldHash = sha256Of(join(v3, 'model.onnx'));

      expect((await load()).status).toBe(200);
      const served = await readControlView(await load());
      expect(served.deployment.hosted.v3).toBe(oldHash);
      expect((await events()).map((e) => e.action)).toEqual(['init', 'load']);
      expect(JSON.parse((await events())[1]?.detail ?? 'null')).toEqual({ sha256: oldHash });
      const before = await v3Answer();

      // The same version name, another graph: iris v1's softmax regression instead of v2's MLP.
      copyFileSync(join(BUNDLED_MODELS, 'iris', 'v1', 'model.onnx'), join(v3, 'model.onnx'));
      const newHash = sha256Of(join(v3, 'model.onnx'));
      const refused = await load();
      expect(refused.status).toBe(409);
      const { error } = await readError(refused);
      expect(error.message).toContain(`serving sha256 ${oldHash}`);
      expect(error.message).toContain(`on disk ${newHash}`);
      expect(error.message).toContain('"reload": true');
      expect(await v3Answer()).toEqual(before);
      expect((await events()).map((e) => e.action)).toEqual(['init', 'load']);

      // Requests keep flowing while the new session takes over: every one is answered,
      // by the old file or the new one, never by nothing.
      let reloading = true;
      const answers: string[] = [];
      const traffic = (async () => {
        while (reloading) answers.push(await v3Answer());
      })();
      const reloaded = await load({ reload: true, reason: 'retrained' });
      reloading = false;
      await traffic;
      expect(answers.length).toBeGreaterThan(0);
      expect(reloaded.status).toBe(200);
      expect((await readControlView(reloaded)).deployment.hosted.v3).toBe(newHash);
      const after = await v3Answer();
      expect(after).not.toEqual(before);
      expect(answers.filter((a) => a !== before && a !== after)).toEqual([]);
      const last = (await events()).at(-1);
      expect(last?.action).toBe('reload');
      expect(JSON.parse(last?.detail ?? 'null')).toEqual({
        sha256: newHash,
        previousSha256: oldHash,
      });

      // Loading the new file once more changes nothing.
      expect((await load()).status).toBe(200);
      expect(await events()).toHaveLength(3);
    } finally {
      await gw.close();
    }
  });
});
