import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { requestHeader } from './request-header.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The caller's X-Request-Id when it is a plain token, else one made here; logged with each row. */
    requestId: string;
  }
}

/** Longest caller-supplied request id kept; a longer one is replaced, not cut. */
const MAX_REQUEST_ID_LENGTH = 255;
/** Letters, digits, `_`, `-` and `=`: safe to echo in a header and to log. */
const PLAIN_TOKEN = /^[\w\-=]+$/;

/**
 * Every request gets an id, echoed as `X-Request-Id`: the caller's own when it is a plain
 * token of at most 255 characters, else a random UUID. hono/request-id does the same, but
 * reads the header through `c.req.header()`, which copies every request header into a
 * Fetch API Headers object first (see request-header.ts).
 */
export const requestId: MiddlewareHandler = async (c, next) => {
  const given = requestHeader(c, 'x-request-id');
  const id =
    given !== undefined && given.length <= MAX_REQUEST_ID_LENGTH && PLAIN_TOKEN.test(given)
      ? given
      : randomUUID();
  c.set('requestId', id);
  c.header('X-Request-Id', id);
  await next();
};
