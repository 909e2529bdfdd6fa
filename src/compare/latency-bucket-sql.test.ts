import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKET_SQL, latencyBucketOf } from './statistics.js';

// The report buckets latencies in SQLite; the percentiles are read back with the JavaScript
// formula. Both must put every latency in the same bucket.
describe('LATENCY_BUCKET_SQL', () => {
  it('computes the same bucket as latencyBucketOf in the SQLite of better-sqlite3', () => {
    const sqlite = new Database(':memory:');
    try {
      sqlite.exec('CREATE TABLE predictions (latency_us INTEGER NOT NULL)');
      const insert = sqlite.prepare('INSERT INTO predictions (latency_us) VALUES (?)');
      const latencies: number[] = [0];
      for (let us = 1; us <= 100_000; us++) latencies.push(us);
      for (let us = 100_000; us < 60_000_000; us = Math.ceil(us * 1.0007)) latencies.push(us);
      sqlite.transaction(() => {
        for (const us of latencies) insert.run(us);
      })();
      const rows = sqlite
        .prepare(`SELECT latency_us AS us, ${LATENCY_BUCKET_SQL} AS bucket FROM predictions`)
        .all() as Array<{ us: number; bucket: number }>;
      expect(rows).toHaveLength(latencies.length);
      const differ = rows.filter((row) => row.bucket !== latencyBucketOf(row.us));
      expect(differ).toEqual([]);
      expect(rows.find((row) => row.us === 1024)?.bucket).toBe(320);
    } finally {
      sqlite.close();
    }
  });
});
