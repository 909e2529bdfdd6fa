import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest } from '../errors.js';
import { toFeatureRows } from '../gateway/predict-input.js';
import { isName } from '../names.js';
import { validationMessage } from '../validation-message.js';
import { describeTensors } from './contract.js';
import { type ModelManifest, modelManifestSchema } from './manifest.js';
import { createRunner, GraphProblem, openGraph, probe, zeroRow } from './onnx-host.js';
import { inlineRunner } from './worker-runner.js';

export interface AddModelOptions {
  file: string;
  model: string;
  version: string;
  modelsDir: string;
  /** What the graph cannot say, as model.json would hold it; written only when not empty. */
  manifest: ModelManifest;
  /** One row in feature order (JSON); a row of zeros when absent. */
  probe?: unknown[] | undefined;
  /** Replace a version already on disk. */
  force?: boolean | undefined;
  /** Where the running gateway listens, for the load call printed at the end. */
  gatewayUrl: string;
}

/**
 * `npm run model:add`: checks a graph the way the gateway will load it (same contract
 * inference, same probe), prints what it found, then copies it into the models directory
 * with a model.json holding only what had to be added. Nothing is copied when it fails.
 */
export async function addModel(options: AddModelOptions, print: (line: string) => void) {
  for (const [field, value] of [
    ['--model', options.model],
    ['--version', options.version],
  ] as const) {
    if (!isName(value)) throw badRequest(`${field}: "${value}" is not a valid name`);
  }
  const parsed = modelManifestSchema.safeParse(options.manifest);
  if (!parsed.success) {
    throw badRequest(`model.json ${validationMessage(parsed.error.issues, 'top level')}`);
  }
  const target = join(options.modelsDir, options.model, options.version);
  if (existsSync(join(target, 'model.onnx')) && !options.force) {
    throw badRequest(`${target} already holds a model.onnx (--force replaces it)`);
  }

  let opened: Awaited<ReturnType<typeof openGraph>>;
  try {
    opened = await openGraph(readFileSync(options.file), parsed.data);
  } catch (error) {
    const graph = error instanceof GraphProblem ? error.graph : undefined;
    const lines = [`cannot serve ${options.file}: ${(error as Error).message}`];
    if (graph) {
      lines.push(`  graph inputs:  ${describeTensors(graph.inputs)}`);
      lines.push(`  graph outputs: ${describeTensors(graph.outputs)}`);
    }
    throw badRequest(lines.join('\n'));
  }
  const { session, contract } = opened;
  try {
    print(`${options.model}/${options.version} from ${options.file}`);
    print(`  inputs:   ${describeTensors(contract.inputs)}`);
    print(`  outputs:  ${describeTensors(opened.outputs)}`);
    print(`  task:     ${contract.task}`);
    print(`  features: ${contract.features.join(', ')}`);
    if (contract.task === 'classification') print(`  labels:   ${contract.labels.join(', ')}`);
    for (const note of contract.notes) print(`  - ${note}`);

    const run = createRunner(inlineRunner(session), contract);
    const inputs = options.probe
      ? toFeatureRows({ inputs: [options.probe] }, contract).inputs
      : zeroRow(contract);
    let answer: Awaited<ReturnType<typeof probe>>;
    try {
      answer = await probe(run, contract, inputs);
    } catch (error) {
      throw badRequest(`probe run failed: ${(error as Error).message}`);
    }
    const shown =
      contract.task === 'regression'
        ? `value ${answer.scores[0]}`
        : contract.labels
            .map((label, k) => `${label} ${Number((answer.scores[k] ?? 0).toFixed(4))}`)
            .join(', ') + (answer.labels ? ` → label ${answer.labels[0]}` : '');
    print(
      `  probe (${options.probe ? JSON.stringify(options.probe) : 'a row of zeros'}): ${shown}`,
    );
  } finally {
    await session.release();
  }

  mkdirSync(target, { recursive: true });
  copyFileSync(options.file, join(target, 'model.onnx'));
  const manifestPath = join(target, 'model.json');
  if (Object.keys(options.manifest).length > 0) {
    writeFileSync(manifestPath, `${JSON.stringify(options.manifest, null, 2)}\n`);
    print(
      `wrote ${join(target, 'model.onnx')} and model.json (${Object.keys(options.manifest).join(', ')})`,
    );
  } else {
    print(`wrote ${join(target, 'model.onnx')} (no model.json needed)`);
  }
  print('load it into the running gateway:');
  print(
    `  curl -X POST ${options.gatewayUrl}/control/load -H "Authorization: Bearer $MODELGATE_CONTROL_TOKEN" -H 'content-type: application/json' -d '${JSON.stringify({ model: options.model, version: options.version })}'`,
  );
  return { dir: target, contract };
}
