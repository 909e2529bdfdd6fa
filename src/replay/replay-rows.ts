import type { ReplayResultRecord } from '../db/replays.js';
import type { ServedRow } from '../db/served-rows.js';
import { packObjects } from '../gateway/predict-input.js';
import { toClassOutputs, toValueOutputs } from '../gateway/predictor.js';
import { concatValues, type TensorValues } from '../models/element-types.js';
import type { HostedVersion } from '../models/onnx-host.js';
import type { Scores } from '../models/output-reading.js';
import type { ReplayRowOutcome } from './report.js';

export interface ReplayedRow {
  outcome: ReplayRowOutcome;
  result: ReplayResultRecord;
}

type Candidate = Pick<HostedVersion, 'task' | 'labels' | 'contract' | 'runDirect'>;

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A logged input as the candidate's tensors: a failure names the feature, once per reason. */
function packRow(candidate: Candidate, input: string) {
  let values: unknown;
  try {
    values = JSON.parse(input);
  } catch {
    throw new Error('input: logged input is not JSON');
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new Error('input: logged input is not a JSON object');
  }
  return packObjects([values as Record<string, unknown>], candidate.contract, () => 'input');
}

interface Answer {
  label: string | null;
  value: number | null;
}

/** One answer per row, or an Error for a row whose output is not a number. */
function readAnswers(
  candidate: Candidate,
  scores: Scores,
  labels: string[] | null,
  rows: number,
): Array<Answer | Error> {
  const perRow = candidate.task === 'regression' ? 1 : candidate.labels.length;
  const answers: Array<Answer | Error> = [];
  const outputs =
    candidate.task === 'regression'
      ? toValueOutputs(scores)
      : toClassOutputs(scores, candidate.labels, labels);
  for (let row = 0; row < rows; row++) {
    const slice = scores.subarray(row * perRow, (row + 1) * perRow);
    if (!slice.every(Number.isFinite)) {
      answers.push(new Error('model returned a non-finite output'));
      continue;
    }
    const output = outputs[row];
    if (output && 'value' in output) answers.push({ label: null, value: output.value });
    else answers.push({ label: output?.label ?? null, value: null });
  }
  return answers;
}

/**
 * Runs one batch of served rows through the candidate, off the live batcher (runDirect).
 * Rows logged as errors are skipped; a row the candidate cannot take (a feature it lacks)
 * fails alone; when the ONNX call fails, each row is run alone so the failure is pinned
 * on the rows that cause it. Latency: the call's time over its rows.
 */
export async function replayRows(
  candidate: Candidate,
  replayId: string,
  rows: readonly ServedRow[],
): Promise<ReplayedRow[]> {
  const out: ReplayedRow[] = new Array(rows.length);
  const base = (row: ServedRow): ReplayResultRecord => ({
    replayId,
    predictionId: row.id,
    ts: row.ts,
    servedVersion: row.version,
    servedLabel: row.label,
    servedValue: candidate.task === 'regression' ? row.score : null,
    candidateLabel: null,
    candidateValue: null,
    latencyUs: null,
    status: 'ok',
    error: null,
  });
  const fail = (i: number, row: ServedRow, reason: string) => {
    out[i] = {
      outcome: { kind: 'failed', reason },
      result: { ...base(row), status: 'failed', error: reason },
    };
  };

  const packed: Array<{ i: number; row: ServedRow; inputs: TensorValues[] }> = [];
  rows.forEach((row, i) => {
    if (row.status !== 'ok') {
      out[i] = { outcome: { kind: 'skipped' }, result: { ...base(row), status: 'skipped' } };
      return;
    }
    try {
      packed.push({ i, row, inputs: packRow(candidate, row.input).inputs });
    } catch (error) {
      fail(i, row, reasonOf(error));
    }
  });

  const run = async (group: typeof packed) => {
    const inputs = candidate.contract.inputs.map((binding, k) =>
      group.length === 1
        ? (group[0]?.inputs[k] as TensorValues)
        : concatValues(
            binding.datatype,
            group.map((p) => p.inputs[k] as TensorValues),
          ),
    );
    const started = process.hrtime.bigint();
    const { scores, labels } = await candidate.runDirect(inputs, group.length);
    const latencyUs = Number(process.hrtime.bigint() - started) / 1000 / group.length;
    const answers = readAnswers(candidate, scores, labels, group.length);
    for (const [k, { i, row }] of group.entries()) {
      const answer = answers[k] as Answer | Error;
      if (answer instanceof Error) {
        fail(i, row, answer.message);
        continue;
      }
      out[i] = {
        outcome: {
          kind: 'ok',
          servedLabel: row.label,
          servedValue: candidate.task === 'regression' ? row.score : null,
          candidateLabel: answer.label,
          candidateValue: answer.value,
          feedbackLabel: row.feedbackLabel,
          feedbackValue: row.feedbackValue,
          latencyUs,
        },
        result: {
          ...base(row),
          candidateLabel: answer.label,
          candidateValue: answer.value,
          latencyUs,
        },
      };
    }
  };

  if (packed.length > 0) {
    try {
      await run(packed);
    } catch (error) {
      if (packed.length === 1) {
        const [only] = packed;
        if (only) fail(only.i, only.row, reasonOf(error));
      } else {
        for (const one of packed) {
          try {
            await run([one]);
          } catch (rowError) {
            fail(one.i, one.row, reasonOf(rowError));
          }
        }
      }
    }
  }
  return out;
}
