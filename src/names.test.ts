import { describe, expect, it } from 'vitest';
import { isName, nameSchema } from './names.js';

describe('model and version names', () => {
  it('accepts plain names up to 64 characters', () => {
    for (const name of ['iris', 'v2', 'v1.10', 'A_b-c.d', 'x'.repeat(64)]) {
      expect(isName(name), name).toBe(true);
      expect(nameSchema.safeParse(name).success, name).toBe(true);
    }
  });

  it('refuses what cannot be a directory or URL segment', () => {
    for (const name of ['', '.hidden', '-v1', 'a/b', '..', 'v 1', 'x'.repeat(65), 'ümlaut']) {
      expect(isName(name), name).toBe(false);
      expect(nameSchema.safeParse(name).success, name).toBe(false);
    }
  });
});
