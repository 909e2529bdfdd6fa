import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { readControlView, readPrediction } from './support/responses.js';
import { CONTROL_TOKEN, createTestGateway, IRIS_ROW } from './support/test-gateway.js';

interface Answer {
  status: number;
  version?: string;
  predictionId?: string;
  sentAt: number;
  answeredAt: number;
}

describe('no request fails or stalls because of a control action', () => {
  it('serves every request during 50 flips, promotes and rollbacks, with one log row each', async () => {
    const gw = await createTestGateway();
    const server = serve({ fetch: gw.gate.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // Each change takes effect somewhere inside its call: [call sent, answer received, new live].
      const timeline: Array<[number, number, string]> = [[0, 0, 'v1']];
      const control = async (path: string, body: unknown) => {
        const sentAt = performance.now();
        const res = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CONTROL_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(200);
        timeline.push([sentAt, performance.now(), (await readControlView(res)).deployment.live]);
      };

      let controlDone = false;
      const answers: Answer[] = [];
      // Changes are paced by traffic, not by a timer: the next one goes out once this many
      // more requests have been answered, so every change lands amid requests in flight.
      const ANSWERS_BETWEEN_CHANGES = 8;
      let waiting: { count: number; reached: () => void } | undefined;
      const answersReach = (count: number) =>
        answers.length >= count
          ? Promise.resolve()
          : new Promise<void>((reached) => {
              waiting = { count, reached };
            });
      const client = async (id: number) => {
        // Bounded: stops with the control loop, and at 3,000 requests per client at most.
        for (let i = 0; !controlDone && i < 3000; i++) {
          const sentAt = performance.now();
          const res = await fetch(`${url}/predict/iris`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-user-id': `u${id}-${i}` },
            body: JSON.stringify({ inputs: IRIS_ROW }),
          });
          const body = res.ok ? await readPrediction(res) : undefined;
          answers.push({
            status: res.status,
            version: body?.version,
            predictionId: body?.predictionId,
            sentAt,
            answeredAt: performance.now(),
          });
          if (waiting && answers.length >= waiting.count) {
            waiting.reached();
            waiting = undefined;
          }
        }
      };
      const clients = Array.from({ length: 16 }, (_, id) => client(id));

      const actions = ['flip', 'promote', 'rollback'] as const;
      for (let n = 0; n < 50; n++) {
        const action = actions[n % 3];
        if (action === 'promote') {
          const { deployment } = await readControlView(await gw.control('GET', '/control/iris'));
          await control('/control/promote', { model: 'iris', version: deployment.standby });
        } else {
          await control(`/control/${action}`, { model: 'iris' });
        }
        await answersReach(answers.length + ANSWERS_BETWEEN_CHANGES);
      }
      controlDone = true;
      await Promise.all(clients);

      expect(answers.length).toBeGreaterThan(100);
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      // A version may have been live from its call's start until the next call's answer.
      const liveDuring = (from: number, to: number) => {
        const versions = new Set<string>();
        timeline.forEach(([start, , version], i) => {
          const end = timeline[i + 1]?.[1] ?? Number.POSITIVE_INFINITY;
          if (start <= to && end >= from) versions.add(version);
        });
        return versions;
      };
      for (const answer of answers) {
        expect(liveDuring(answer.sentAt, answer.answeredAt)).toContain(answer.version);
      }
      const logged = await gw.query<{ id: string; version: string }>(
        "SELECT id, version FROM predictions WHERE model = 'iris'",
      );
      const byId = new Map(logged.map((row) => [row.id, row.version]));
      expect(logged.length).toBe(answers.length);
      for (const answer of answers)
        expect(byId.get(answer.predictionId as string)).toBe(answer.version);
    } finally {
      await new Promise((r) => server.close(r));
      await gw.close();
    }
  }, 120_000);
});
