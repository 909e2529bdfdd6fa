import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  parseBound,
  partitionName,
  partitionsBefore,
  partitionsToCreate,
} from './partitions.js';

const DAY0 = Date.UTC(2026, 11, 2);

describe('day partitions', () => {
  it('plans today and the next two days, named by date, skipping days that exist', () => {
    const planned = partitionsToCreate(
      [{ name: partitionName(DAY0 + DAY_MS), from: DAY0 + DAY_MS, to: DAY0 + 2 * DAY_MS }],
      DAY0 + 13 * 3_600_000,
    );
    expect(planned).toEqual([
      { name: 'predictions_20261202', from: DAY0, to: DAY0 + DAY_MS },
      { name: 'predictions_20261204', from: DAY0 + 2 * DAY_MS, to: DAY0 + 3 * DAY_MS },
    ]);
  });

  it('never splits a day the pre-partitioning table reaches into', () => {
    const legacy = { name: 'predictions_before_partitioning', from: null, to: DAY0 + DAY_MS };
    expect(partitionsToCreate([legacy], DAY0 + 5).map((p) => p.from)).toEqual([
      DAY0 + DAY_MS,
      DAY0 + 2 * DAY_MS,
    ]);
  });

  it('drops only partitions whose every row is older than the cutoff', () => {
    const days = [0, 1, 2].map((d) => ({
      name: partitionName(DAY0 + d * DAY_MS),
      from: DAY0 + d * DAY_MS,
      to: DAY0 + (d + 1) * DAY_MS,
    }));
    expect(partitionsBefore(days, DAY0 + 2 * DAY_MS).map((p) => p.name)).toEqual([
      'predictions_20261202',
      'predictions_20261203',
    ]);
    expect(partitionsBefore(days, DAY0 + 2 * DAY_MS - 1)).toHaveLength(1);
  });

  it('reads PostgreSQL partition bounds, MINVALUE included', () => {
    expect(parseBound('a', "FOR VALUES FROM ('1764633600000') TO ('1764720000000')")).toEqual({
      name: 'a',
      from: 1764633600000,
      to: 1764720000000,
    });
    expect(parseBound('b', "FOR VALUES FROM (MINVALUE) TO ('1764720000000')")).toEqual({
      name: 'b',
      from: null,
      to: 1764720000000,
    });
    expect(parseBound('c', 'DEFAULT')).toBeNull();
  });
});
