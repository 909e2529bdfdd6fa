/**
 * The one error type of modelgate. Thrown anywhere; turned into
 * `{"error": {"code", "message"}}` by the single onError in app.ts.
 */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'invalid_input'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'not_found'
  | 'model_not_found'
  | 'version_not_found'
  | 'conflict'
  | 'invalid_transition'
  | 'unavailable'
  | 'inference_failed'
  | 'model_load_failed'
  | 'internal';

export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415 | 500 | 503;

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly status: ErrorStatus,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const badRequest = (message: string) => new AppError(400, 'bad_request', message);
export const invalidInput = (message: string) => new AppError(400, 'invalid_input', message);
export const notFound = (message: string) => new AppError(404, 'not_found', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const invalidTransition = (message: string) =>
  new AppError(409, 'invalid_transition', message);
export const modelNotFound = (model: string) =>
  new AppError(404, 'model_not_found', `model "${model}" is not loaded`);
export const versionNotFound = (model: string, version: string) =>
  new AppError(404, 'version_not_found', `model "${model}" has no loaded version "${version}"`);
