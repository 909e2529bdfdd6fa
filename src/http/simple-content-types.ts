import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import { requestHeader } from './request-header.js';

/**
 * The content types a browser may POST to another origin without asking first
 * (no CORS preflight). Accepting them would let any web page a user visits make
 * predictions or send feedback through that user's network position; a JSON
 * API never needs them.
 */
const SIMPLE_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
]);

export const refuseSimpleContentTypes: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'POST') {
    const mediaType = mediaTypeOf(requestHeader(c, 'content-type'));
    if (mediaType && SIMPLE_CONTENT_TYPES.has(mediaType)) {
      throw new AppError(
        415,
        'unsupported_media_type',
        `Content-Type: ${mediaType} is not accepted; send application/json`,
      );
    }
  }
  await next();
};

/** `text/plain` of `Text/Plain; charset=utf-8`: the type and subtype, lower case. */
function mediaTypeOf(header: string | undefined): string {
  if (header === undefined) return '';
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase();
}
