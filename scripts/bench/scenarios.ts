/**
 * What the bench serves: the bare Hono + ONNX Runtime handler and modelgate, on iris (~12 µs a
 * run: measures HTTP, routing and the log) and on the heavy model (~0.5 ms a run: measures
 * inference), each driven at the same concurrencies in one run.
 */
import { heavyBody } from './heavy-model.js';
import { IRIS_BODY } from './load.js';

export type ModelKey = 'iris' | 'heavy';

export interface Scenario {
  /** Unique in a run, e.g. "heavy/modelgate". */
  id: string;
  model: ModelKey;
  label: string;
  /** The bare handler every other server of the same model is compared with. */
  bare: boolean;
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
      id: 'iris/bare',
      model: 'iris',
      label: 'iris · bare hono+ort',
      bare: true,
      script: 'scripts/bench/bare-server.ts',
      path: '/predict',
      body: IRIS_BODY,
      env: {},
    },
    {
      id: 'iris/batch-off',
      model: 'iris',
      label: 'iris · modelgate batch off',
      bare: false,
      script: MODELGATE_SCRIPT,
      path: '/predict/iris',
      body: IRIS_BODY,
      env: modelgateEnv({ MODELGATE_BATCH_WINDOW_US: '0' }),
    },
    {
      id: 'iris/batch-on',
      model: 'iris',
      label: 'iris · modelgate (defaults)',
      bare: false,
      script: MODELGATE_SCRIPT,
      path: '/predict/iris',
      body: IRIS_BODY,
      env: modelgateEnv({}),
    },
    {
      id: 'heavy/bare',
      model: 'heavy',
      label: 'heavy · bare hono+ort',
      bare: true,
      script: 'scripts/bench/bare-server.ts',
      path: '/predict',
      body: heavy,
      env: { BARE_MODEL_DIR: heavyVersionDir },
    },
    {
      id: 'heavy/inline',
      model: 'heavy',
      label: 'heavy · modelgate worker off',
      bare: false,
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
      bare: false,
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
      bare: false,
      script: MODELGATE_SCRIPT,
      path: '/predict/heavy',
      body: heavy,
      env: modelgateEnv({ MODELGATE_MODELS_DIR: heavyModelsDir }),
    },
  ];
}
