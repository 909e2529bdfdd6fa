import { pino } from 'pino';

export type { Logger } from 'pino';

/** JSON lines on stdout; per-request lines only at debug, so info costs nothing per request. */
export function createLogger(level: string) {
  return pino({ level, base: { service: 'modelgate' } });
}
