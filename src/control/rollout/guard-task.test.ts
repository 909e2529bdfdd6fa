import { describe, expect, it } from 'vitest';
import { checkGuardsFitTask } from './guard-task.js';

const classifier = { model: 'iris', version: 'v1', task: 'classification' } as const;
const regressor = { model: 'price', version: 'v2', task: 'regression' } as const;
const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return error as { status: number; message: string };
  }
  return null;
};

describe('checkGuardsFitTask', () => {
  it('refuses mae and rmse on a classifier, naming the guard, the version and why', () => {
    for (const guard of ['mae', 'rmse'] as const) {
      const error = refusal(() => checkGuardsFitTask({ [guard]: { margin: 1 } }, [classifier]));
      expect(error?.status).toBe(400);
      expect(error?.message).toContain(`guards.${guard}: iris/v1 is a classifier`);
      expect(error?.message).toContain('predicts a label, not a value');
      expect(error?.message).toContain('use "accuracy"');
    }
  });

  it('refuses accuracy and shadowDisagreement on a regressor', () => {
    const accuracy = refusal(() => checkGuardsFitTask({ accuracy: { margin: 0.02 } }, [regressor]));
    expect(accuracy?.message).toContain('guards.accuracy: price/v2 is a regressor');
    expect(accuracy?.message).toContain('use "mae" or "rmse"');
    const shadow = refusal(() =>
      checkGuardsFitTask({ shadowDisagreement: { maxPercent: 5 } }, [regressor]),
    );
    expect(shadow?.message).toContain('guards.shadowDisagreement: price/v2 is a regressor');
  });

  it('checks every version given: a classifier live under a regressor candidate is refused', () => {
    const live = { ...classifier, model: 'price' };
    const error = refusal(() => checkGuardsFitTask({ rmse: { margin: 1 } }, [regressor, live]));
    expect(error?.message).toContain('price/v1 is a classifier');
  });

  it('accepts the guards of each task, and the task-free ones on both', () => {
    const anyTask = {
      errorRate: { margin: 0.01 },
      latencyP95: { maxRatio: 1.5 },
      value: { margin: 1, better: 'higher' as const },
    };
    expect(() =>
      checkGuardsFitTask({ ...anyTask, mae: { margin: 1 }, rmse: { margin: 1 } }, [regressor]),
    ).not.toThrow();
    expect(() =>
      checkGuardsFitTask(
        { ...anyTask, accuracy: { margin: 0.02 }, shadowDisagreement: { maxPercent: 5 } },
        [classifier],
      ),
    ).not.toThrow();
  });
});
