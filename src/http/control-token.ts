import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import { requestHeader } from './request-header.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export const unauthorized = (
  message = 'Authorization: a valid "Bearer <control token>" header is required',
) => new AppError(401, 'unauthorized', message);

/**
 * Whether the request carries the control token. Any Authorization that is not
 * exactly it — missing, another scheme, malformed, wrong — is simply "no": one
 * answer (401) for all, so a caller learns nothing from which check failed.
 * Compared as SHA-256 digests so the comparison takes the same time whatever
 * the lengths.
 */
export function controlTokenChecker(token: string): (c: Context) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (c) => {
    const match = BEARER.exec(requestHeader(c, 'authorization') ?? '');
    if (!match) return false;
    const given = createHash('sha256')
      .update(match[1] as string)
      .digest();
    return timingSafeEqual(given, expected);
  };
}

/** Refuses every request without the control token with 401. */
export function requireControlToken(hasToken: (c: Context) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (!hasToken(c)) {
      c.header('WWW-Authenticate', 'Bearer realm="modelgate control"');
      throw unauthorized();
    }
    await next();
  };
}
