import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * One request header (`name` in any case) as the Fetch API reads it: every line of that
 * name, in order, joined with ", ". `c.req.header()` gives the same, but first copies every
 * header into a WHATWG Headers object, validating each entry (undici's webidl conversion):
 * on iris at c=64 that copy was ~3 % of the main thread and ~6 % of the bytes allocated per
 * prediction, for the few headers the gateway reads. Under @hono/node-server this reads
 * Node's raw header lines instead. Not `incoming.headers`: Node keeps only the first of a
 * repeated Authorization or Content-Type there, so `Authorization: Bearer right` followed by
 * `Authorization: Bearer wrong` would pass as the right token where Fetch reads both.
 * Elsewhere (app.request in tests) the Fetch API headers are the only ones there are.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const wanted = name.toLowerCase();
  const lines = incoming.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const key = lines[i] as string;
    // The length test first: most lines are other headers, and it costs no string.
    if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue;
    const line = lines[i + 1] as string;
    value = value === undefined ? line : `${value}, ${line}`;
  }
  return value;
}
