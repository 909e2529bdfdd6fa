import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * One request header (`name` in any case), from Node's own parsed header map when
 * @hono/node-server serves the request. `c.req.header()` first copies every header into
 * a WHATWG Headers object, validating each entry (undici's webidl conversion): on iris at
 * c=64 that copy was ~3 % of the main thread and ~6 % of the bytes allocated per
 * prediction, for the two or three headers the gateway reads. Repeated headers read the
 * same either way (joined with ", "). Elsewhere (app.request in tests) the Fetch API
 * headers are the only ones there are.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
