import type { DeploymentStore } from '../../db/deployments.js';
import type { RolloutRecord, RolloutStore } from '../../db/rollouts.js';
import type { CompareRows, CompareRowsQuery } from '../../db/stats-queries.js';
import { conflict, invalidTransition, modelNotFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ModelHost } from '../../models/model-host.js';
import type { DeploymentCommand } from '../deployments.js';
import type { ChangeMeta, ControlService } from '../service.js';
import { decideStep, type RolloutPolicy } from './decision.js';
import { checkGuardsFitTask } from './guard-task.js';
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

  const disarm = (model: string) => {
    const handle = timers.get(model);
    if (handle !== undefined) timer.clear(handle);
    timers.delete(model);
  };

  /** After a committed change: time the next evaluation (one interval), or stop timing an ended rollout. */
  const follow = (record: RolloutRecord) => {
    if (record.status === 'running') arm(record.model, record.intervalMs);
    else disarm(record.model);
  };

  const finished = (
    record: RolloutRecord,
    status: RolloutRecord['status'],
    outcome: string,
  ): RolloutRecord => ({ ...record, status, outcome, finishedAt: now(), nextEvaluationAt: null });

  /** Whether `stored` is still the running step an evaluation read before its slow query. */
  const sameStep = (stored: RolloutRecord | undefined, read: RolloutRecord) =>
    stored?.status === 'running' &&
    stored.stepIndex === read.stepIndex &&
    stored.stepStartedAt === read.stepStartedAt;

  /** The change that puts `record` on `stepIndex`; the step at 100 % promotes and ends it. */
  const stepChange = (record: RolloutRecord, stepIndex: number) => {
    const percent = record.steps[stepIndex] as number;
    const moved = { ...record, stepIndex, stepStartedAt: now() };
    if (percent >= 100) {
      return {
        command: { type: 'rollout_complete', version: record.candidate } as const,
        record: finished(
          moved,
          'completed',
          `${record.candidate} promoted after ${stepIndex} step(s)`,
        ),
      };
    }
    return {
      command: {
        type: 'rollout_step',
        weights: stepSplit(record.baseline, record.candidate, percent),
        first: stepIndex === 0,
      } as const,
      record: { ...moved, nextEvaluationAt: moved.stepStartedAt + record.intervalMs },
    };
  };

  const halt = (
    record: RolloutRecord,
    action: 'rollout_abort' | 'rollout_guard_tripped',
    detail?: Record<string, unknown>,
  ) =>
    ({
      type: 'rollout_halt',
      action,
      candidate: record.candidate,
      ...(detail ? { detail } : {}),
    }) as const;

  /**
   * Commits an evaluation's outcome unless the rollout moved on while the window was
   * being read (aborted, or stepped by another evaluation): then the outcome is stale
   * and dropped, and whatever moved it decides what happens next.
   */
  const concludeStep = async (
    read: RolloutRecord,
    change: (stored: RolloutRecord) => {
      command: DeploymentCommand;
      record: RolloutRecord;
    },
    meta: ChangeMeta,
  ) => {
    const committed = await deps.control.applyRollout(
      read.model,
      (stored) => (stored && sameStep(stored, read) ? change(stored) : null),
      meta,
    );
    if (committed) follow(committed);
    else
      deps.logger.info(
        { model: read.model },
        'rollout changed during its evaluation; outcome dropped',
      );
  };

  /** The step's window: the split is constant within it (see decision.ts). */
  const stepStats = async (record: RolloutRecord) =>
    windowStats(
      await deps.windowRows({ model: record.model, since: record.stepStartedAt, until: now() + 1 }),
      record.baseline,
      record.candidate,
    );

  const service: RolloutService = {
    async start(model, request, meta) {
      if (!deps.deployments.get(model)) throw modelNotFound(model);
      const candidate = deps.host.require(model, request.version);
      const steps = validateSteps(request.steps);
      const intervalMs = parseInterval(request.interval);
      const policy = rolloutPolicy(request, intervalMs);
      const record = await deps.control.applyRollout(
        model,
        (stored, state) => {
          if (stored?.status === 'running') {
            throw conflict(`a rollout of "${model}" is already running; abort it first`);
          }
          if (request.version === state.live) {
            throw invalidTransition(`${model}: "${request.version}" is already live`);
          }
          // Live may be loaded only on another replica; the candidate is loaded here.
          const live = deps.host.get(model, state.live);
          checkGuardsFitTask(policy.guards, live ? [candidate, live] : [candidate]);
          const fresh: RolloutRecord = {
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
          return stepChange(fresh, 0);
        },
        meta,
      );
      if (!record) throw new Error('a rollout start cannot be dropped');
      follow(record);
      return record;
    },

    async abort(model, meta) {
      const record = await deps.control.applyRollout(
        model,
        (stored) => {
          if (stored?.status !== 'running') {
            throw invalidTransition(`${model}: no rollout is running`);
          }
          return {
            command: halt(stored, 'rollout_abort'),
            record: finished(
              stored,
              'aborted',
              `aborted by ${meta.actor}${meta.reason ? `: ${meta.reason}` : ''}`,
            ),
          };
        },
        meta,
      );
      if (!record) throw new Error('an abort cannot be dropped');
      follow(record);
      return record;
    },

    async evaluate(model) {
      const read = await deps.rollouts.get(model);
      if (read?.status !== 'running') return;
      const policy = read.guards as unknown as RolloutPolicy;
      if (typeof policy.alpha !== 'number' || typeof policy.guards !== 'object') {
        // Started by a version whose guards compared raw rates: it cannot be judged now.
        const why = 'started with the retired fixed-threshold guards';
        await concludeStep(
          read,
          (stored) => ({
            command: halt(stored, 'rollout_abort'),
            record: finished(stored, 'aborted', `${why}; start it again`),
          }),
          { actor: ROLLOUT_ACTOR, reason: why },
        );
        return;
      }
      const step = decideStep({
        stats: await stepStats(read),
        policy,
        steps: read.steps,
        stepElapsedMs: now() - read.stepStartedAt,
      });
      const { readings, tripped } = step.guards;
      if (step.action === 'rollback') {
        const reason =
          tripped.length > 0
            ? tripped.map((r) => `${r.guard}: ${r.detail}`).join('; ')
            : `step inconclusive after maxStepDuration (onInconclusive: rollback): ${readings
                .filter((r) => r.status === 'wait')
                .map((r) => r.guard)
                .join(', ')} still waiting`;
        deps.logger.warn(
          { model, candidate: read.candidate, tripped },
          `rollout rolled back: ${reason}`,
        );
        await concludeStep(
          read,
          (stored) => ({
            command: halt(stored, 'rollout_guard_tripped', {
              step: stored.steps[stored.stepIndex],
              alpha: step.stepAlpha,
              inconclusive: step.inconclusive,
              tripped,
              readings,
            }),
            record: finished({ ...stored, readings }, 'rolled_back', reason),
          }),
          { actor: ROLLOUT_ACTOR, reason: `guard tripped: ${reason}` },
        );
        return;
      }
      if (step.action === 'wait') {
        // Not shown either way yet: stay on this step and look again after another interval
        // (always-valid sequences may be looked at as often as this).
        if (step.inconclusive) {
          deps.logger.warn({ model }, 'rollout step inconclusive past maxStepDuration: holding');
        }
        const held = { ...read, readings, nextEvaluationAt: now() + read.intervalMs };
        // Only onto the same running step: an abort or a step committed meanwhile stands.
        if (await deps.rollouts.saveIfSameStep(held)) follow(held);
        return;
      }
      const meta = {
        actor: ROLLOUT_ACTOR,
        reason: `step ${read.steps[read.stepIndex]}% passed its guards`,
      };
      await concludeStep(
        read,
        (stored) => {
          const next = stored.stepIndex + 1;
          if (next < stored.steps.length) return stepChange({ ...stored, readings }, next);
          // The last step was below 100 % and passed: that too ends in a promote.
          return {
            command: { type: 'rollout_complete', version: stored.candidate },
            record: finished(
              { ...stored, readings },
              'completed',
              `${stored.candidate} promoted after the last step`,
            ),
          };
        },
        meta,
      );
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
