import type { Context } from 'hono';
import type { PredictResult } from './predictor.js';

/**
 * The version always; the prediction id only for a single row. A batch's ids
 * (37 bytes each) would outgrow header limits — Node's fetch and HAProxy give
 * up around 420 rows while the rows are already logged as served — so they stay
 * in the body only.
 */
export function setPredictionHeaders(c: Context, result: PredictResult): void {
  c.header('X-Model-Version', result.version);
  const [only, ...more] = result.predictionIds;
  if (only !== undefined && more.length === 0) c.header('X-Prediction-Id', only);
}
