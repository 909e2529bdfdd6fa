import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { errorsToJson } from './errors-to-json.js';

const appThrowing = (error: Error) => {
  const app = new Hono().get('/', () => {
    throw error;
  });
  app.onError(errorsToJson(createLogger('silent')));
  return app;
};

const answer = async (error: Error) => {
  const res = await appThrowing(error).request('/');
  return { status: res.status, ...((await res.json()) as { error: { code: string } }).error };
};

describe('errorsToJson', () => {
  it("names a middleware's HTTPException by its status, and a 5xx never as the caller's fault", async () => {
    const cases: Array<[number, string]> = [
      [400, 'bad_request'],
      [401, 'unauthorized'],
      [404, 'not_found'],
      [413, 'payload_too_large'],
      [415, 'unsupported_media_type'],
      [500, 'internal'],
      [502, 'internal'],
      [503, 'unavailable'],
    ];
    for (const [status, code] of cases) {
      expect(
        await answer(new HTTPException(status as 400, { message: 'x' })),
        String(status),
      ).toEqual({ status, code, message: 'x' });
    }
  });

  it('answers an AppError as it says, and anything else as a 500 internal', async () => {
    expect(await answer(new AppError(409, 'conflict', 'moved'))).toEqual({
      status: 409,
      code: 'conflict',
      message: 'moved',
    });
    expect(await answer(new Error('boom'))).toMatchObject({ status: 500, code: 'internal' });
  });
});
