import { pino } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines on stdout; per-request lines only at debug, so info costs nothing per request.
 * Command-line tools whose output is on stdout log to stderr (`fd` 2) instead.
 */
export function createLogger(level: string, fd: 1 | 2 = 1) {
  const options = { level, base: { service: 'modelgate' } };
  return fd === 1 ? pino(options) : pino(options, pino.destination(2));
}
