import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';
import { initialState } from '../src/control/deployments.js';
import { createDeploymentFollower } from '../src/control/follow-deployments.js';
import { createModelHost, type ModelHost } from '../src/models/model-host.js';
import { BUNDLED_MODELS } from './support/test-gateway.js';

interface LogLine {
  level: number;
  msg: string;
  model?: string;
  version?: string;
  reason?: string;
  retryInMs?: number;
}

const WARN = 40;
const REFRESH_MS = 300;

let dir: string;
let host: ModelHost;
let lines: LogLine[];
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-follow-'));
  cpSync(BUNDLED_MODELS, dir, { recursive: true });
  host = await createModelHost(dir, { batch: readConfig({ MODELGATE_MODELS_DIR: dir }).batch });
  lines = [];
  clock = 1_000_000;
});

afterEach(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

const follower = () =>
  createDeploymentFollower({
    host,
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    firstRetryMs: REFRESH_MS,
    now: () => clock,
  });

const warnings = () => lines.filter((line) => line.level === WARN);

describe('a replica that cannot load what a deployment needs', () => {
  it('retries with backoff, one line per retry naming model, version and reason, then catches up', async () => {
    const follow = follower();
    const next = { ...initialState('iris', ['v1', 'v2'], host.hashes('iris')), standby: 'v9' };

    await expect(follow.prepare(next)).rejects.toThrow(/iris\/v9: no model\.onnx/);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ model: 'iris', version: 'v9', retryInMs: REFRESH_MS });
    expect(warnings()[0]?.reason).toContain('no model.onnx');
    expect(warnings()[0]?.msg).toContain('v9');

    // Every refresh asks again; only once the pause is over is the disk tried (and a line logged).
    clock += REFRESH_MS - 1;
    await expect(follow.prepare(next)).rejects.toThrow(/v9/);
    expect(warnings()).toHaveLength(1);
    clock += 1;
    await expect(follow.prepare(next)).rejects.toThrow(/v9/);
    expect(warnings().map((line) => line.retryInMs)).toEqual([REFRESH_MS, 2 * REFRESH_MS]);
    clock += 2 * REFRESH_MS - 1;
    await expect(follow.prepare(next)).rejects.toThrow(/v9/);
    expect(warnings()).toHaveLength(2);
    clock += 1;
    await expect(follow.prepare(next)).rejects.toThrow(/v9/);
    expect(warnings().map((line) => line.retryInMs)).toEqual([300, 600, 1200]);

    cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(dir, 'iris', 'v9'), { recursive: true });
    clock += 1200;
    await follow.prepare(next);
    expect(host.get('iris', 'v9')).toBeDefined();
    expect(lines.at(-1)).toMatchObject({
      model: 'iris',
      version: 'v9',
      msg: 'iris/v9 loaded: caught up',
    });
    expect(warnings()).toHaveLength(3);
  });
});

describe('a deployment replaced by one that no longer hosts a version', () => {
  it('lets the version go, unless the new deployment still routes to it', async () => {
    cpSync(join(BUNDLED_MODELS, 'iris', 'v2'), join(dir, 'iris', 'v3'), { recursive: true });
    await host.load('iris', 'v3');
    const follow = follower();
    const previous = initialState('iris', ['v1', 'v2', 'v3'], host.hashes('iris'));
    const { v3: _unloaded, ...withoutV3 } = previous.hosted;

    follow.replaced(previous, {
      ...previous,
      hosted: withoutV3,
      split: { v1: 50, v3: 50 },
      revision: 1,
    });
    expect(host.get('iris', 'v3')).toBeDefined();

    follow.replaced(previous, { ...previous, hosted: withoutV3, revision: 1 });
    expect(host.get('iris', 'v3')).toBeUndefined();
    expect(host.get('iris', 'v2')).toBeDefined();
  });
});
