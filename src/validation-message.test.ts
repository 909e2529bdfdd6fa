import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issuePath, validationMessage } from './validation-message.js';

describe('validation messages', () => {
  it('joins keys with dots and puts indices in brackets', () => {
    expect(issuePath(['inputs', 0, 'data', 3], 'body')).toBe('inputs[0].data[3]');
    expect(issuePath(['instances', 1, 'sepal_width'], 'body')).toBe('instances[1].sepal_width');
    expect(issuePath([2, 'x'], 'body')).toBe('[2].x');
  });

  it('names the whole value when the issue is at the top', () => {
    expect(issuePath([], 'environment')).toBe('environment');
    expect(validationMessage([], 'body')).toBe('body: invalid');
  });

  it('says where and what for the first issue of a real zod error', () => {
    const schema = z.object({ steps: z.array(z.number().int('must be whole')) });
    const parsed = schema.safeParse({ steps: [1, 2.5, 3.5] });
    expect(parsed.success).toBe(false);
    expect(validationMessage(parsed.error?.issues ?? [])).toBe('steps[1]: must be whole');
  });
});
