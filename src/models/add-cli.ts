import { parseArgs } from 'node:util';
import { readConfig } from '../config.js';
import { AppError, badRequest } from '../errors.js';
import { addModel } from './add-model.js';
import type { ModelManifest } from './manifest.js';

const USAGE = `usage: npm run model:add -- <file.onnx> --model <name> --version <v>
  [--labels a,b,c] [--features a,b,c] [--task classification|regression]
  [--output <name>] [--transform none|softmax|sigmoid] [--probe '[1, 2, 3]'] [--force]`;

const list = (value: string | undefined) =>
  value === undefined ? undefined : value.split(',').map((item) => item.trim());

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      version: { type: 'string' },
      labels: { type: 'string' },
      features: { type: 'string' },
      task: { type: 'string' },
      output: { type: 'string' },
      transform: { type: 'string' },
      probe: { type: 'string' },
      force: { type: 'boolean' },
    },
  });
  const [file, extra] = positionals;
  if (!file || extra || !values.model || !values.version) throw badRequest(USAGE);
  if (values.transform && !values.output) throw badRequest('--transform needs --output <name>');
  let probe: unknown;
  if (values.probe !== undefined) {
    try {
      probe = JSON.parse(values.probe);
    } catch {
      throw badRequest(`--probe: not JSON: ${values.probe}`);
    }
    if (!Array.isArray(probe)) throw badRequest('--probe: expected a JSON array (one row)');
  }
  // Only what the flags add: the rest comes from the graph.
  const manifest = Object.fromEntries(
    Object.entries({
      features: list(values.features),
      labels: list(values.labels),
      task: values.task,
      output: values.output
        ? { name: values.output, ...(values.transform ? { transform: values.transform } : {}) }
        : undefined,
    }).filter(([, value]) => value !== undefined),
  ) as ModelManifest;
  const config = readConfig();
  await addModel(
    {
      file,
      model: values.model,
      version: values.version,
      modelsDir: config.modelsDir,
      manifest,
      probe: probe as unknown[] | undefined,
      force: values.force,
      gatewayUrl: `http://localhost:${config.port}`,
    },
    (line) => process.stdout.write(`${line}\n`),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `model:add: ${error instanceof AppError ? error.message : ((error as Error).stack ?? error)}\n`,
    );
    process.exit(error instanceof AppError ? 2 : 1);
  },
);
