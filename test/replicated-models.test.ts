import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildGateway, startChildGateway } from './support/child-gateway.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';
import { BUNDLED_MODELS, IRIS_ROW, json } from './support/test-gateway.js';

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

const servedBy = async (gateway: ChildGateway) => {
  const res = await fetch(`${gateway.url}/predict/iris`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: IRIS_ROW }),
  });
  return { status: res.status, version: (await json(res)).version as string | undefined };
};

/** Copies bundled iris v2 in as a new version of iris in the given models directories. */
const addVersion = (version: string, ...modelsDirs: string[]) => {
  for (const modelsDir of modelsDirs) {
    cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(modelsDir, 'iris', version), {
      recursive: true,
    });
  }
};

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('a version hot-loaded and promoted on one replica', () => {
  it('is loaded by the other from its own disk and served there within 2 s', async () => {
    addVersion('v3', modelsA(), modelsB());
    expect((await control(a, '/control/load', { model: 'iris', version: 'v3' })).status).toBe(200);
    expect((await control(a, '/control/promote', { model: 'iris', version: 'v3' })).status).toBe(
      200,
    );
    const promotedAt = Date.now();
    // Every answer of B in between is 200: it serves the previous state until v3 is ready.
    await within(2000, async () => {
      const answer = await servedBy(b);
      expect(answer.status).toBe(200);
      return answer.version === 'v3';
    });
    expect(Date.now() - promotedAt).toBeLessThan(2000);
    const ready = await fetch(`${b.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await json(ready)).not.toHaveProperty('notReady');
  });

  it('while the other cannot load it, keeps the previous state there and says why', async () => {
    addVersion('v4', modelsA());
    expect((await control(a, '/control/promote', { model: 'iris', version: 'v4' })).status).toBe(
      200,
    );
    expect((await servedBy(a)).version).toBe('v4');
    let readiness: { behind?: Array<{ model: string; reason: string }> } = {};
    await within(3000, async () => {
      readiness = await json(await fetch(`${b.url}/v2/health/ready`));
      return (readiness.behind?.length ?? 0) > 0;
    });
    expect(readiness.behind?.[0]).toMatchObject({ model: 'iris' });
    expect(readiness.behind?.[0]?.reason).toContain('v4');
    expect(await servedBy(b)).toEqual({ status: 200, version: 'v3' });

    // Once the files arrive on B's disk, B catches up on its next re-read.
    addVersion('v4', modelsB());
    await within(3000, async () => (await servedBy(b)).version === 'v4');
    expect(await json(await fetch(`${b.url}/v2/health/ready`))).not.toHaveProperty('behind');
  });
});
