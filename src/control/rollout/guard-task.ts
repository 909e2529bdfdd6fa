/**
 * Which guards fit which task. A classifier's rows carry a label and no predicted value,
 * a regressor's a value and no label, so a guard of the other task would read nothing
 * (and wait forever) or read the wrong thing: the rollout is refused instead. Pure.
 */
import { badRequest } from '../../errors.js';
import type { Task } from '../../models/manifest.js';
import type { GuardConfig, GuardName } from './guards.js';

const FITS: Partial<Record<GuardName, { task: Task; why: string; instead: string }>> = {
  accuracy: {
    task: 'classification',
    why: 'it compares predicted labels with feedback labels, and a regressor predicts a value, not a label',
    instead: '"mae" or "rmse"',
  },
  shadowDisagreement: {
    task: 'classification',
    why: 'it counts shadowed requests answered with another label, and a regressor answers no label',
    instead: '"mae" or "rmse"',
  },
  mae: {
    task: 'regression',
    why: 'it measures |predicted value − feedback value|, and a classifier predicts a label, not a value',
    instead: '"accuracy"',
  },
  rmse: {
    task: 'regression',
    why: 'it measures (predicted value − feedback value)², and a classifier predicts a label, not a value',
    instead: '"accuracy"',
  },
};

/** A 400 naming the guard, the version and why, when a configured guard does not fit its task. */
export function checkGuardsFitTask(
  guards: GuardConfig,
  versions: ReadonlyArray<{ model: string; version: string; task: Task }>,
): void {
  for (const guard of Object.keys(guards) as GuardName[]) {
    const fit = FITS[guard];
    if (!fit) continue;
    const misfit = versions.find((v) => v.task !== fit.task);
    if (misfit) {
      const kind = misfit.task === 'regression' ? 'a regressor' : 'a classifier';
      throw badRequest(
        `guards.${guard}: ${misfit.model}/${misfit.version} is ${kind}, and ${guard} fits only a ${fit.task} model: ${fit.why}; use ${fit.instead}`,
      );
    }
  }
}
