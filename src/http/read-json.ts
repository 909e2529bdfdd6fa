import type { Context } from 'hono';
import { AppError } from '../errors.js';

/** Parses the JSON body; malformed JSON is the client's 400, never a 500. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') throw new AppError(400, 'invalid_json', 'body: expected a JSON body');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'invalid_json', `body: malformed JSON (${(error as Error).message})`);
  }
}
