import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LogRange } from '../db/log-archive.js';
import { readServedInputs, type ServedRowSource } from '../db/served-rows.js';
import { addToHistogram, type Histogram } from '../stats/value-bins.js';
import { emptySample, type TrafficSample } from './traffic-sample.js';

const PAGE_ROWS = 5_000;

/**
 * Streams the served rows of `range` once, a page at a time, into counts per version:
 * memory holds one page and the bins, never the window; between pages the event loop
 * serves live traffic.
 */
export async function scanTraffic(
  source: ServedRowSource,
  range: LogRange,
  keep: (version: string) => boolean = () => true,
): Promise<Map<string, TrafficSample>> {
  const samples = new Map<string, TrafficSample>();
  for await (const page of readServedInputs(source, range, PAGE_ROWS)) {
    for (const [, version, input, label, score] of page) {
      if (!keep(version)) continue;
      let sample = samples.get(version);
      if (!sample) {
        sample = emptySample();
        samples.set(version, sample);
      }
      sample.rows++;
      // Only successful predictions have a label (a classifier's) or a score without one (a regressor's value).
      if (label !== null) sample.labels.set(label, (sample.labels.get(label) ?? 0) + 1);
      else if (score !== null) addToHistogram(sample.predicted, score);
      addInput(sample.features, input);
    }
    await nextTurn();
  }
  return samples;
}

/** The gateway logs inputs as a JSON object of feature → number; anything else is skipped. */
function addInput(features: Map<string, Histogram>, input: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
  for (const [feature, value] of Object.entries(parsed)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    let histogram = features.get(feature);
    if (!histogram) {
      histogram = new Map();
      features.set(feature, histogram);
    }
    addToHistogram(histogram, value);
  }
}
