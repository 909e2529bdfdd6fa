import type { z } from 'zod';

/**
 * Where in a value a zod issue lies, in the one style every message uses: keys joined
 * with dots, indices in brackets (`inputs[0].data`, `steps[1]`, `PORT`); `top` when the
 * issue is about the whole value.
 */
export function issuePath(path: readonly PropertyKey[], top: string): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || top;
}

/**
 * A failed parse as one message, `path: what is wrong`, from its first issue: every
 * route, the config and the model manifest say it the same way. `top` names the whole
 * value (`body`, `environment`).
 */
export function validationMessage(issues: readonly z.core.$ZodIssue[], top = 'body'): string {
  const issue = issues[0];
  return issue ? `${issuePath(issue.path, top)}: ${issue.message}` : `${top}: invalid`;
}
