import { Hono } from 'hono';

import type { Logger } from 'pino';
import type { AppError } from './errors.js';
import { errorsToJson, notFoundJson } from './http/errors-to-json.js';
import { requestId } from './http/request-id.js';
import { refuseSimpleContentTypes } from './http/simple-content-types.js';
import type { Metrics } from './metrics.js';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  /** Routers in the order they are mounted; each is a table of endpoints. */
  routers: Hono[];
  /** Turns an error that is the storage's state into a 503 (Storage.unavailable). */
  storageUnavailable?: (error: unknown) => AppError | undefined;
}

/** The HTTP surface: shared middleware, every router, one error handler. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  app.use(requestId);
  app.use(async (c, next) => {
    await next();
    deps.metrics.httpRequests.inc({
      method: c.req.method,
      path: c.req.routePath,
      status: String(c.res.status),
    });
  });
  app.use(refuseSimpleContentTypes);
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, {
      'Content-Type': deps.metrics.registry.contentType,
    }),
  );
  for (const router of deps.routers) app.route('/', router);
  app.onError(errorsToJson(deps.logger, deps.storageUnavailable));
  app.notFound(notFoundJson);
  return app;
}
