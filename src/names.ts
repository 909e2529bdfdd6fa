import { z } from 'zod';

/**
 * Model and version names become directory names, URL segments and log values: keep
 * them plain. The one definition, for the models directory, the control API, model
 * loads and the compare CLI.
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const isName = (value: string): boolean => NAME_PATTERN.test(value);

/** A model or version name in a request body. */
export const nameSchema = z.string().regex(NAME_PATTERN, 'expected a model or version name');
