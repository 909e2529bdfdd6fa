/**
 * What the bench serves: the bare Hono + ONNX Runtime handler and modelgate, on iris (~12 µs a
 * run: measures HTTP, routing and the log) and on the heavy model (~0.5 ms a run: measures
 * inference), each driven at the same concurrencies in one run; and Hono alone without a model,
 * the HTTP floor, in the c=64 rounds.
 */
import { heavyBody } from './heavy-model.js';
import { IRIS_BODY } from './load.js';

export type ModelKey = 'iris' | 'heavy';

/**
 * `bare`: the Hono + ONNX Runtime handler every other server of the same model is compared with.
 * `floor`: Hono alone, reading the body and answering fixed JSON (no model), in the c=64 rounds
 * only, to show how much of a request's CPU is HTTP itself. `modelgate`: the gateway.
 */
export type ServerKind = 'bare' | 'floor' | 'modelgate';

export interface Scenario {
  /** Unique in a run, e.g. "heavy/modelgate". */
  id: string;
  model: ModelKey;
  label: string;
  kind: ServerKind;
  script: string;
  path: string;
  body: string;
  env: Record<string, string>;
}

const modelgateEnv = (extra: Record<string, string>) => ({
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  MODELGATE_CONTROL_TOKEN_NAME: 'bench',
  MODELGATE_CONTROL_TOKEN: 'bench-token-not-secret',
  ...extra,
});

export const CONTROL_TOKEN = 'bench-token-not-secret';

/**
 * modelgate as `npm start` runs it: the compiled build, not the sources under tsx, so the
 * figures are of what production runs (BENCHMARKS.md: the build was not the cheaper of the
 * two in this machine's runs). run.ts builds dist/ first when src/ is newer.
 */
export const MODELGATE_SCRIPT = 'dist/main.js';

/** `heavyModelsDir` holds heavy/v1 only; `heavyVersionDir` is that version's folder. */
export function scenarios(heavyModelsDir: string, heavyVersionDir: string): Scenario[] {
  const heavy = heavyBody();
  return [
    {
      id: 'iris/floor',
      model: 'iris',
      label: 'hono floor (no model)',
      kind: 'floor',
      script: 'scripts/bench/floor-server.ts',
      path: '/predict',
      body: IRIS_BODY,
      env: {},
    },
    {
      id: 'iris/bare',
      model: 'iris',
      label: 'iris · bare hono+ort',
      kind: 'bare',
      script: 'scripts/bench/bare-server.ts',
      path: '/predict',
      body: IRIS_BODY,
      env: {},
    },
    {
      id: 'iris/batch-off',
      model: 'iris',
      label: 'iris · modelgate batch off',
      kind: 'modelgate',
      script: MODELGATE_SCRIPT,
      path: '/predict/iris',
      body: IRIS_BODY,
      env: modelgateEnv({ MODELGATE_BATCH_WINDOW_US: '0' }),
    },
    {
      id: 'iris/batch-on',
      model: 'iris',
      label: 'iris · modelgate (defaults)',
      kind: 'modelgate',
      script: MODELGATE_SCRIPT,
      path: '/predict/iris',
      body: IRIS_BODY,
      env: modelgateEnv({}),
    },
    {
      id: 'heavy/bare',
      model: 'heavy',
      label: 'heavy · bare hono+ort',
      kind: 'bare',
      script: 'scripts/bench/bare-server.ts',
      path: '/predict',
      body: heavy,
      env: { BARE_MODEL_DIR: heavyVersionDir },
    },
    {
      id: 'heavy/inline',
      model: 'heavy',
      label: 'heavy · modelgate worker off',
      kind: 'modelgate',
      script: MODELGATE_SCRIPT,
      path: '/predict/heavy',
      body: heavy,
      env: modelgateEnv({
        MODELGATE_MODELS_DIR: heavyModelsDir,
        MODELGATE_INFERENCE_WORKER: 'off',
      }),
    },
    {
      // Both cores for the run itself instead of a worker thread: the event loop still waits
      // for each run, but each run takes about half as long.
      id: 'heavy/intra-op-2',
      model: 'heavy',
      label: 'heavy · modelgate inline, 2 intra-op threads',
      kind: 'modelgate',
      script: MODELGATE_SCRIPT,
      path: '/predict/heavy',
      body: heavy,
      env: modelgateEnv({
        MODELGATE_MODELS_DIR: heavyModelsDir,
        MODELGATE_INFERENCE_WORKER: 'off',
        MODELGATE_INTRA_OP_THREADS: '2',
      }),
    },
    {
      id: 'heavy/modelgate',
      model: 'heavy',
      label: 'heavy · modelgate (defaults)',
      kind: 'modelgate',
      script: MODELGATE_SCRIPT,
      path: '/predict/heavy',
      body: heavy,
      env: modelgateEnv({ MODELGATE_MODELS_DIR: heavyModelsDir }),
    },
  ];
}

/**
 * Whether a server gets its c=64 figures in the interleaved rounds (run.ts) rather than from a
 * single run. A model's servers go in all together or not at all: every c=64 comparison (× bare,
 * the targets, the heavy model's worker against intra-op threads) then has both sides from the
 * same rounds or both from single runs, never a median over the rounds beside one run taken
 * minutes earlier. iris always: its targets sit near their lines, so the machine's drift between
 * runs minutes apart would decide them. The heavy model with --heavy-rounds only: its target is
 * far from its line, and its four servers cost 4 × rounds × duration seconds more.
 */
export const inRounds = (scenario: Scenario, heavyRounds: boolean): boolean =>
  scenario.model === 'iris' || (heavyRounds && scenario.model === 'heavy');
