import { Hono } from 'hono';
import { readJson } from '../http/read-json.js';
import { requestHeader } from '../http/request-header.js';
import { parsePredictBody, toFeatureRows } from './predict-input.js';
import { setPredictionHeaders } from './prediction-headers.js';
import type { Predictor } from './predictor.js';
import { stickyContext } from './sticky-context.js';

/** POST /predict/:model — the gateway's own JSON protocol. */
export function predictRoutes(predictor: Predictor) {
  return new Hono().post('/predict/:model', async (c) => {
    const body = parsePredictBody(await readJson(c));
    const result = await predictor.predict({
      model: c.req.param('model'),
      override: requestHeader(c, 'x-model-version') || undefined,
      context: stickyContext(requestHeader(c, 'x-user-id'), body),
      requestId: c.get('requestId'),
      toRows: (hosted) => toFeatureRows(body, hosted.contract),
    });
    setPredictionHeaders(c, result);
    return c.json({
      model: result.model,
      version: result.version,
      route: result.route,
      predictionId: result.predictionIds[0],
      ...(result.predictionIds.length > 1 ? { predictionIds: result.predictionIds } : {}),
      // The graph's own label output decided each row's label (not the most probable class).
      ...(result.labelFrom && result.labelFrom !== 'argmax' ? { labelFrom: result.labelFrom } : {}),
      outputs: result.outputs.map((o) =>
        'value' in o ? { value: o.value } : { label: o.label, probabilities: o.probabilities },
      ),
    });
  });
}
