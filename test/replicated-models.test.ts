import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ChildGateway, startChildGateway } from './support/child-gateway.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { readControlView, readPrediction, readReadiness } from './support/responses.js';
import { BUNDLED_MODELS, IRIS_ROW } from './support/test-gateway.js';

const TOKEN = 'replicated-models-token-0123';

let database: TestDatabase;
let dir: string;
const modelsA = () => join(dir, 'a');
const modelsB = () => join(dir, 'b');
let a: ChildGateway;
let b: ChildGateway;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'modelgate-replicated-'));
  // Each replica has its own models directory, as two machines would.
  cpSync(BUNDLED_MODELS, modelsA(), { recursive: true });
  cpSync(BUNDLED_MODELS, modelsB(), { recursive: true });
  const env = (modelsDir: string) => ({
    MODELGATE_DATABASE_URL: database.url,
    MODELGATE_CONTROL_TOKEN: TOKEN,
    MODELGATE_MODELS_DIR: modelsDir,
    MODELGATE_DB_REFRESH_MS: '300',
  });
  [a, b] = await Promise.all([
    startChildGateway(env(modelsA())),
    startChildGateway(env(modelsB())),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const control = (gateway: ChildGateway, path: string, body: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });

/** What `gateway` answers for `version` asked by name: its status, and the probabilities. */
const askVersion = async (gateway: ChildGateway, version: string) => {
  const res = await fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-model-version': version },
    body: JSON.stringify({ inputs: IRIS_ROW }),
  });
  if (!res.ok) return { status: res.status, probabilities: undefined };
  const [output] = (await readPrediction(res)).outputs;
  const probabilities = output && 'probabilities' in output ? output.probabilities : undefined;
  return { status: res.status, probabilities: JSON.stringify(probabilities) };
};

const servedBy = async (gateway: ChildGateway) => {
  const res = await fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: IRIS_ROW }),
  });
  return { status: res.status, version: res.ok ? (await readPrediction(res)).version : undefined };
};

/** Copies bundled iris v2 in as a new version of iris in the given models directories. */
const addVersion = (version: string, ...modelsDirs: string[]) => {
  for (const modelsDir of modelsDirs) {
    cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(modelsDir, 'iris', version), {
      recursive: true,
    });
  }
};

/** Polls generously; a bound the test promises is asserted on the time measured, not here. */
const POLL = { timeout: 15_000, interval: 20 };

describe('a version hot-loaded and promoted on one replica', () => {
  it('is loaded by the other from its own disk and served there within 2 s', async () => {
    addVersion('v3', modelsA(), modelsB());
    expect((await control(a, '/control/load', { model: 'iris', version: 'v3' })).status).toBe(200);
    expect((await control(a, '/control/promote', { model: 'iris', version: 'v3' })).status).toBe(
      200,
    );
    const promotedAt = Date.now();
    // Every answer of B in between is 200: it serves the previous state until v3 is ready.
    const statuses: number[] = [];
    let servedAt = 0;
    await vi.waitFor(async () => {
      const answer = await servedBy(b);
      statuses.push(answer.status);
      expect(answer.version).toBe('v3');
      servedAt = Date.now();
    }, POLL);
    expect(servedAt - promotedAt).toBeLessThanOrEqual(2000);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const ready = await fetch(`${b.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await readReadiness(ready)).not.toHaveProperty('notReady');
  });

  it('while the other cannot load it, keeps the previous state there and says why', async () => {
    addVersion('v4', modelsA());
    expect((await control(a, '/control/promote', { model: 'iris', version: 'v4' })).status).toBe(
      200,
    );
    expect((await servedBy(a)).version).toBe('v4');
    let readiness: Awaited<ReturnType<typeof readReadiness>> | undefined;
    await vi.waitFor(async () => {
      readiness = await readReadiness(await fetch(`${b.url}/v2/health/ready`));
      expect(readiness?.behind).toHaveLength(1);
    }, POLL);
    expect(readiness?.behind?.[0]).toMatchObject({ model: 'iris' });
    expect(readiness?.behind?.[0]?.reason).toContain('v4');
    expect(await servedBy(b)).toEqual({ status: 200, version: 'v3' });

    // Once the files arrive on B's disk, B catches up on its next re-read.
    addVersion('v4', modelsB());
    await vi.waitFor(async () => expect((await servedBy(b)).version).toBe('v4'), POLL);
    expect(await readReadiness(await fetch(`${b.url}/v2/health/ready`))).not.toHaveProperty(
      'behind',
    );
  });
});

describe('load, reload and unload on one replica', () => {
  it('apply on the other replica too: loaded from its own disk, then let go', async () => {
    addVersion('v5', modelsA(), modelsB());
    expect((await askVersion(b, 'v5')).status).toBe(404);
    expect((await control(a, '/control/load', { model: 'iris', version: 'v5' })).status).toBe(200);
    await vi.waitFor(async () => expect((await askVersion(b, 'v5')).status).toBe(200), POLL);

    expect((await control(a, '/control/unload', { model: 'iris', version: 'v5' })).status).toBe(
      200,
    );
    await vi.waitFor(async () => expect((await askVersion(b, 'v5')).status).toBe(404), POLL);
    expect((await askVersion(a, 'v5')).status).toBe(404);
  });

  it("an unload sent to one replica clears the other one's shadow to it in the same change", async () => {
    addVersion('v6', modelsA(), modelsB());
    expect((await control(a, '/control/load', { model: 'iris', version: 'v6' })).status).toBe(200);
    await vi.waitFor(async () => expect((await askVersion(b, 'v6')).status).toBe(200), POLL);
    // B mirrors traffic to v6; the unload sent to A then clears that shadow on every replica
    // in the same change, so no replica ever routes to a version it let go of.
    const shadow = await fetch(`${b.url}/control/shadow`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ model: 'iris', version: 'v6', percent: 100 }),
    });
    expect(shadow.status).toBe(200);
    const unloaded = await control(a, '/control/unload', { model: 'iris', version: 'v6' });
    expect(unloaded.status).toBe(200);
    expect((await readControlView(unloaded)).deployment.shadow).toBeNull();
    await vi.waitFor(async () => expect((await askVersion(b, 'v6')).status).toBe(404), POLL);
    expect((await servedBy(b)).status).toBe(200);
  });

  it('a reload switches every replica to the new file; one whose file differs stays behind and says so', async () => {
    addVersion('v7', modelsA(), modelsB());
    expect((await control(a, '/control/load', { model: 'iris', version: 'v7' })).status).toBe(200);
    await vi.waitFor(async () => expect((await askVersion(b, 'v7')).status).toBe(200), POLL);
    const mlp = (await askVersion(b, 'v7')).probabilities;

    // The retrained file (iris v1's graph) arrives on both disks under the same name.
    for (const modelsDir of [modelsA(), modelsB()]) {
      copyFileSync(
        join(BUNDLED_MODELS, 'iris', 'v1', 'model.onnx'),
        join(modelsDir, 'iris', 'v7', 'model.onnx'),
      );
    }
    expect((await control(a, '/control/load', { model: 'iris', version: 'v7' })).status).toBe(409);
    const reload = { model: 'iris', version: 'v7', reload: true };
    expect((await control(a, '/control/load', reload)).status).toBe(200);
    const regression = (await askVersion(a, 'v7')).probabilities;
    expect(regression).not.toBe(mlp);
    await vi.waitFor(
      async () => expect((await askVersion(b, 'v7')).probabilities).toBe(regression),
      POLL,
    );

    // Back to the MLP file, on A's disk only: B must not serve a file it does not have.
    copyFileSync(
      join(BUNDLED_MODELS, 'iris', 'v2', 'model.onnx'),
      join(modelsA(), 'iris', 'v7', 'model.onnx'),
    );
    expect((await control(a, '/control/load', reload)).status).toBe(200);
    expect((await askVersion(a, 'v7')).probabilities).toBe(mlp);
    let reason = '';
    await vi.waitFor(async () => {
      const readiness = await readReadiness(await fetch(`${b.url}/v2/health/ready`));
      reason = readiness.behind?.[0]?.reason ?? '';
      expect(reason).toContain('v7');
    }, POLL);
    expect(reason).toMatch(
      /model\.onnx here has sha256 [0-9a-f]{64}, the deployment serves [0-9a-f]{64}/,
    );
    expect((await askVersion(b, 'v7')).probabilities).toBe(regression);
  });
});
