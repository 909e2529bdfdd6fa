/**
 * The HTTP floor: Hono + @hono/node-server reading the same JSON body as the bare handler and
 * answering a fixed JSON of the same shape as its iris answer, with no model. What a request
 * costs here is what HTTP and Hono cost before any inference, routing or logging. It reads the
 * body as the bare handler does, with c.req.json() (which builds a WHATWG Request); modelgate
 * reads bodies off Node's IncomingMessage, so its CPU per request can fall below this floor's.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const ANSWER = {
  label: 'setosa',
  probabilities: { setosa: 0.98, versicolor: 0.01, virginica: 0.01 },
};

const app = new Hono();
app.post('/predict', async (c) => {
  await c.req.json();
  return c.json(ANSWER);
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 8090), hostname: '127.0.0.1' },
  (info) => process.stdout.write(`floor server listening on ${info.port}\n`),
);

const stop = () => {
  server.close(() => process.exit(0));
  if ('closeAllConnections' in server) server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
