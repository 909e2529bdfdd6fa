/**
 * The baseline: Hono + ONNX Runtime with nothing else. One session, one run per
 * request, no routing, logging or validation beyond reading the four numbers.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import * as ort from 'onnxruntime-node';

// BARE_MODEL_DIR points at another version folder (the bench's heavy model); iris v1 by default.
const dir = process.env.BARE_MODEL_DIR
  ? pathToFileURL(`${process.env.BARE_MODEL_DIR.replace(/\/$/, '')}/`)
  : new URL('../../models/iris/v1/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('model.json', dir), 'utf8')) as {
  inputs: Array<{ name: string; features: string[] }>;
  labels: string[];
};
const input = manifest.inputs[0];
if (!input) throw new Error('iris v1 model.json declares no input');
const { features } = input;
const labels = manifest.labels;

const session = await ort.InferenceSession.create(new URL('model.onnx', dir).pathname, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});

const app = new Hono();
app.post('/predict', async (c) => {
  const body = await c.req.json<{ inputs?: Record<string, unknown> }>();
  const row = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const value = body.inputs?.[features[i] as string];
    if (typeof value !== 'number') return c.json({ error: `missing ${features[i]}` }, 400);
    row[i] = value;
  }
  const tensor = new ort.Tensor('float32', row, [1, features.length]);
  const result = await session.run({ [input.name]: tensor });
  const p = result.probabilities?.data as Float32Array;
  let best = 0;
  const probabilities: Record<string, number> = {};
  for (let k = 0; k < labels.length; k++) {
    probabilities[labels[k] as string] = p[k] as number;
    if ((p[k] as number) > (p[best] as number)) best = k;
  }
  return c.json({ label: labels[best], probabilities });
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 8090), hostname: '127.0.0.1' },
  (info) => process.stdout.write(`bare server listening on ${info.port}\n`),
);

const stop = () => {
  server.close(() => void session.release().then(() => process.exit(0)));
  if ('closeAllConnections' in server) server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
