import type { DeploymentStore } from '../../db/deployments.js';
import type { RolloutRecord, RolloutStore } from '../../db/rollouts.js';
import type { CompareRows, CompareRowsQuery } from '../../db/stats-queries.js';
import { conflict, invalidTransition, modelNotFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ModelHost } from '../../models/model-host.js';
import type { ChangeMeta, ControlService } from '../service.js';
import { decideStep, type RolloutPolicy } from './decision.js';
import type { GuardConfig } from './guards.js';
import { parseInterval, rolloutPolicy, stepSplit, validateSteps } from './plan.js';
import { windowStats } from './window.js';

/** setTimeout by another name, so tests can fire steps without sleeping. */
export interface RolloutTimer {
  /** `callback` returns the evaluation's promise, so a test's timer can await it. */
  set(callback: () => Promise<void>, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: RolloutTimer = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface RolloutRequest {
  version: string;
  steps: number[];
  interval: string;
  /** The rollout's error budget (default 0.05), split across its judged steps and guards. */
  alpha?: number | undefined;
  maxStepDuration?: string | undefined;
  onInconclusive?: 'hold' | 'rollback' | undefined;
  guards: GuardConfig;
}

export interface RolloutService {
  start(model: string, request: RolloutRequest, meta: ChangeMeta): Promise<RolloutRecord>;
  abort(model: string, meta: ChangeMeta): Promise<RolloutRecord>;
  view(model: string): Promise<RolloutRecord | null>;
  /** Evaluates the model's current step now (what the timer calls). */
  evaluate(model: string): Promise<void>;
  /**
   * Lines this process's timers up with the stored rollouts: the leading replica
   * times every running rollout (picking up those started elsewhere or before a
   * restart, with the time already spent counted); any other replica times none.
   */
  sync(): Promise<void>;
  close(): void;
}

const ROLLOUT_ACTOR = 'rollout';

export function createRolloutService(deps: {
  control: ControlService;
  deployments: DeploymentStore;
  rollouts: RolloutStore;
  host: ModelHost;
  /** The aggregated log rows of a window (flushed first): what the guards read. */
  windowRows: (query: CompareRowsQuery) => Promise<CompareRows>;
  logger: Logger;
  /** Whether this replica drives rollouts (storage.leads()): exactly one does. */
  leads: () => boolean;
  timer?: RolloutTimer;
  now?: () => number;
}): RolloutService {
  const timer = deps.timer ?? realTimer;
  const now = deps.now ?? Date.now;
  const timers = new Map<string, unknown>();

  /** Times the next evaluation here, if this replica leads; the record is the store's business. */
  const arm = (model: string, delayMs: number) => {
    const existing = timers.get(model);
    if (existing !== undefined) timer.clear(existing);
    timers.delete(model);
    if (!deps.leads()) return;
    const handle: unknown = timer.set(
      () =>
        service
          .evaluate(model)
          .catch((error) => {
            deps.logger.error({ err: error, model }, 'rollout evaluation failed');
          })
          .finally(() => {
            // Kept until the evaluation ends, so sync() never arms a second one meanwhile.
            if (timers.get(model) === handle) timers.delete(model);
          }),
      delayMs,
    );
    timers.set(model, handle);
  };

  const schedule = async (record: RolloutRecord, delayMs: number) => {
    record.nextEvaluationAt = now() + delayMs;
    await deps.rollouts.save(record);
    arm(record.model, delayMs);
  };

  const finish = async (
    record: RolloutRecord,
    status: RolloutRecord['status'],
    outcome: string,
  ) => {
    const handle = timers.get(record.model);
    if (handle !== undefined) timer.clear(handle);
    timers.delete(record.model);
    Object.assign(record, { status, outcome, finishedAt: now(), nextEvaluationAt: null });
    await deps.rollouts.save(record);
  };

  /** The step's window: the split is constant within it (see decision.ts). */
  const stepStats = async (record: RolloutRecord) =>
    windowStats(
      await deps.windowRows({ model: record.model, since: record.stepStartedAt, until: now() + 1 }),
      record.baseline,
      record.candidate,
    );

  const moveTo = async (record: RolloutRecord, stepIndex: number, meta: ChangeMeta) => {
    const percent = record.steps[stepIndex] as number;
    record.stepIndex = stepIndex;
    record.stepStartedAt = now();
    if (percent >= 100) {
      await deps.control.apply(
        record.model,
        { type: 'rollout_complete', version: record.candidate },
        meta,
      );
      await finish(record, 'completed', `${record.candidate} promoted after ${stepIndex} step(s)`);
      return;
    }
    await deps.control.apply(
      record.model,
      {
        type: 'rollout_step',
        weights: stepSplit(record.baseline, record.candidate, percent),
        first: stepIndex === 0,
      },
      meta,
    );
    await schedule(record, record.intervalMs);
  };

  const service: RolloutService = {
    async start(model, request, meta) {
      const state = deps.deployments.get(model);
      if (!state) throw modelNotFound(model);
      deps.host.require(model, request.version);
      const steps = validateSteps(request.steps);
      const intervalMs = parseInterval(request.interval);
      const policy = rolloutPolicy(request, intervalMs);
      if ((await deps.rollouts.get(model))?.status === 'running') {
        throw conflict(`a rollout of "${model}" is already running; abort it first`);
      }
      if (request.version === state.live) {
        throw invalidTransition(`${model}: "${request.version}" is already live`);
      }
      const record: RolloutRecord = {
        model,
        candidate: request.version,
        baseline: state.live,
        steps,
        stepIndex: 0,
        intervalMs,
        // The whole decision policy (alpha, guards, step limit) lives in the guards column.
        guards: policy as unknown as Record<string, unknown>,
        status: 'running',
        stepStartedAt: now(),
        nextEvaluationAt: null,
        readings: [],
        startedAt: now(),
        finishedAt: null,
        outcome: null,
      };
      await moveTo(record, 0, meta);
      return record;
    },

    async abort(model, meta) {
      const record = await deps.rollouts.get(model);
      if (record?.status !== 'running') throw invalidTransition(`${model}: no rollout is running`);
      await deps.control.apply(
        model,
        { type: 'rollout_halt', action: 'rollout_abort', candidate: record.candidate },
        meta,
      );
      await finish(
        record,
        'aborted',
        `aborted by ${meta.actor}${meta.reason ? `: ${meta.reason}` : ''}`,
      );
      return record;
    },

    view: async (model) => (await deps.rollouts.get(model)) ?? null,

    async evaluate(model) {
      const record = await deps.rollouts.get(model);
      if (record?.status !== 'running') return;
      const policy = record.guards as unknown as RolloutPolicy;
      if (typeof policy.alpha !== 'number' || typeof policy.guards !== 'object') {
        // Started by a version whose guards compared raw rates: it cannot be judged now.
        await deps.control.apply(
          model,
          { type: 'rollout_halt', action: 'rollout_abort', candidate: record.candidate },
          { actor: ROLLOUT_ACTOR, reason: 'started with the retired fixed-threshold guards' },
        );
        await finish(
          record,
          'aborted',
          'started with the retired fixed-threshold guards; start it again',
        );
        return;
      }
      const step = decideStep({
        stats: await stepStats(record),
        policy,
        steps: record.steps,
        stepElapsedMs: now() - record.stepStartedAt,
      });
      const { readings, tripped } = step.guards;
      record.readings = readings;
      if (step.action === 'rollback') {
        const reason =
          tripped.length > 0
            ? tripped.map((r) => `${r.guard}: ${r.detail}`).join('; ')
            : `step inconclusive after maxStepDuration (onInconclusive: rollback): ${readings
                .filter((r) => r.status === 'wait')
                .map((r) => r.guard)
                .join(', ')} still waiting`;
        deps.logger.warn(
          { model, candidate: record.candidate, tripped },
          `rollout rolled back: ${reason}`,
        );
        await deps.control.apply(
          model,
          {
            type: 'rollout_halt',
            action: 'rollout_guard_tripped',
            candidate: record.candidate,
            detail: {
              step: record.steps[record.stepIndex],
              alpha: step.stepAlpha,
              inconclusive: step.inconclusive,
              tripped,
              readings,
            },
          },
          { actor: ROLLOUT_ACTOR, reason: `guard tripped: ${reason}` },
        );
        await finish(record, 'rolled_back', reason);
        return;
      }
      if (step.action === 'wait') {
        // Not shown either way yet: stay on this step and look again after another interval
        // (always-valid sequences may be looked at as often as this).
        if (step.inconclusive) {
          deps.logger.warn({ model }, 'rollout step inconclusive past maxStepDuration: holding');
        }
        await schedule(record, record.intervalMs);
        return;
      }
      const next = record.stepIndex + 1;
      const meta = {
        actor: ROLLOUT_ACTOR,
        reason: `step ${record.steps[record.stepIndex]}% passed its guards`,
      };
      if (next < record.steps.length) {
        await moveTo(record, next, meta);
        return;
      }
      // The last step was below 100 % and passed: that too ends in a promote.
      await deps.control.apply(
        model,
        { type: 'rollout_complete', version: record.candidate },
        meta,
      );
      await finish(record, 'completed', `${record.candidate} promoted after the last step`);
    },

    async sync() {
      if (!deps.leads()) {
        for (const handle of timers.values()) timer.clear(handle);
        timers.clear();
        return;
      }
      for (const record of await deps.rollouts.running()) {
        if (timers.has(record.model)) continue;
        // Time already spent in the step counts: a restart or a new leader does not restart the clock.
        const due = record.nextEvaluationAt ?? record.stepStartedAt + record.intervalMs;
        const remaining = Math.max(0, due - now());
        arm(record.model, remaining);
        deps.logger.info({ model: record.model, remainingMs: remaining }, 'rollout picked up');
      }
    },

    close() {
      for (const handle of timers.values()) timer.clear(handle);
      timers.clear();
    },
  };
  return service;
}
