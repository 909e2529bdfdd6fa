import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AppError } from '../errors.js';
import { packObjects } from '../gateway/predict-input.js';
import type { Predictor } from '../gateway/predictor.js';
import type { InputRow } from './input-rows.js';

/**
 * Scores a file of rows through the gateway's own predictor: the same routing (split,
 * flag or live; sticky by the user column), the same dynamic batching (a chunk of rows
 * is in flight at once, so the batcher merges them into ONNX calls) and the same log,
 * with route `batch`. Memory is bounded by one chunk: its predictions are written,
 * and its log rows committed, before the next chunk is read.
 */
export interface ScoreJobOptions {
  predictor: Predictor;
  /** Commits the queued log rows; awaited after every chunk. */
  flushLog: () => Promise<void>;
  model: string;
  /** Score every row with this version instead of routing. */
  version?: string;
  /** Input field holding the user key: sticky routing, and copied to each output line. */
  userColumn?: string;
  /** Written to every log row's request_id, so one job's rows can be found together. */
  requestId: string;
  rows: AsyncIterable<InputRow>;
  out: Writable;
  errors: Writable;
  chunkRows?: number;
  onProgress?: (scored: number, failed: number) => void;
}

export interface ScoreJobResult {
  scored: number;
  failed: number;
}

const DEFAULT_CHUNK_ROWS = 1000;

async function writeLine(stream: Writable, value: unknown): Promise<void> {
  if (!stream.write(`${JSON.stringify(value)}\n`)) await once(stream, 'drain');
}

/** Why a row was not scored, in the gateway's own words where it has them. */
const reasonOf = (error: unknown): string =>
  error instanceof AppError ? `${error.code}: ${error.message}` : String(error);

export async function runScoreJob(options: ScoreJobOptions): Promise<ScoreJobResult> {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const result: ScoreJobResult = { scored: 0, failed: 0 };

  const scoreOne = (row: Extract<InputRow, { values: unknown }>) => {
    const values = { ...row.values };
    let userId: string | undefined;
    if (options.userColumn !== undefined) {
      const key = values[options.userColumn];
      delete values[options.userColumn];
      if (key !== undefined && key !== null && key !== '') userId = String(key);
    }
    return options.predictor
      .predict({
        model: options.model,
        ...(options.version === undefined ? {} : { override: options.version }),
        context: userId === undefined ? {} : { userId },
        requestId: options.requestId,
        logRoute: 'batch',
        toRows: (hosted) => packObjects([values], hosted.contract, () => `line ${row.line}`),
      })
      .then((prediction) => ({ prediction, userId }));
  };

  const runChunk = async (chunk: InputRow[]) => {
    // Started together so the batcher can merge them; settled (never left rejected while
    // earlier rows are awaited) and written in input order.
    const pending = chunk.map((row) =>
      'values' in row
        ? scoreOne(row).then(
            (scored) => ({ scored }),
            (error: unknown) => ({ error: reasonOf(error), input: row.values }),
          )
        : undefined,
    );
    for (const [i, row] of chunk.entries()) {
      const outcome = await pending[i];
      if (!outcome || 'error' in outcome) {
        result.failed++;
        await writeLine(
          options.errors,
          outcome
            ? { line: row.line, error: outcome.error, input: outcome.input }
            : {
                line: row.line,
                error: 'error' in row ? row.error : '',
                text: 'text' in row ? row.text : '',
              },
        );
        continue;
      }
      const { prediction, userId } = outcome.scored;
      const output = prediction.outputs[0];
      result.scored++;
      await writeLine(options.out, {
        line: row.line,
        ...(options.userColumn === undefined ? {} : { [options.userColumn]: userId ?? null }),
        predictionId: prediction.predictionIds[0],
        version: prediction.version,
        ...(output && 'value' in output
          ? { value: output.value }
          : {
              label: output?.label,
              score: output?.score,
              probabilities: output?.probabilities,
            }),
      });
    }
    await options.flushLog();
    options.onProgress?.(result.scored, result.failed);
  };

  let chunk: InputRow[] = [];
  for await (const row of options.rows) {
    chunk.push(row);
    if (chunk.length >= chunkRows) {
      await runChunk(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await runChunk(chunk);
  return result;
}
