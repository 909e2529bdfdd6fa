import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { AppError, type ErrorCode } from '../errors.js';

/**
 * Under /v2 the Open Inference Protocol fixes the error body as `{"error": "<message>"}`
 * (inference_rest.md), which KServe's and Triton's clients parse; the machine code rides
 * beside it. Everywhere else it is `{"error": {"code", "message"}}`.
 */
const body = (c: Context, code: string, message: string) =>
  isOipPath(c.req.path) ? { error: message, code } : { error: { code, message } };

const isOipPath = (path: string) => path === '/v2' || path.startsWith('/v2/');

/** The one place an error becomes a response. */
export function errorsToJson(
  logger: Logger,
  /** The storage's word on an error that is its state (a locked or full file): a 503, not a 500. */
  storageUnavailable: (error: unknown) => AppError | undefined = () => undefined,
): ErrorHandler {
  return (thrown: Error, c: Context) => {
    const error = storageUnavailable(thrown) ?? thrown;
    if (error instanceof AppError) {
      if (error.status >= 500) {
        logger.error({ err: error, requestId: c.get('requestId') }, error.message);
      }
      return c.json(body(c, error.code, error.message), error.status);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = httpExceptionCode(status);
      if (status >= 500) logger.error({ err: error, requestId: c.get('requestId') }, code);
      return c.json(body(c, code, error.message || `HTTP ${status}`), status);
    }
    logger.error({ err: error, requestId: c.get('requestId') }, 'unexpected error');
    return c.json(
      body(c, 'internal', `unexpected error; request id ${c.get('requestId') ?? 'unknown'}`),
      500,
    );
  };
}

/** The code of a Hono HTTPException (middleware's own errors) by its status. */
export function httpExceptionCode(status: number): ErrorCode {
  if (status >= 500) return status === 503 ? 'unavailable' : 'internal';
  return HTTP_EXCEPTION_CODES[status] ?? 'bad_request';
}

const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'unauthorized',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export const notFoundJson: NotFoundHandler = (c) =>
  c.json(body(c, 'not_found', `no endpoint ${c.req.method} ${c.req.path}`), 404);
