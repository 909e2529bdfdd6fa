/**
 * Proves the real-server harness end to end: a flag configured through the Admin API reaches
 * the real unleash-client, and a weight change made while the client runs shows up in its
 * variant split within a few refresh intervals.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnleashAdmin, type UnleashAdmin } from './support/unleash-admin.js';
import { databaseExists, startUnleash, type UnleashTestServer } from './support/unleash-server.js';

const FLAG = 'modelgate.harness';
const USERS = 2_000;

function shareOf(client: Unleash, variant: string): number {
  let hits = 0;
  for (let i = 0; i < USERS; i++) {
    if (client.getVariant(FLAG, { userId: `user-${i}` }).name === variant) hits++;
  }
  return hits / USERS;
}

describe('real unleash-server harness', () => {
  let server: UnleashTestServer | undefined;
  let admin: UnleashAdmin;
  let client: Unleash | undefined;
  const clientErrors: unknown[] = [];

  beforeAll(async () => {
    server = await startUnleash();
    admin = createUnleashAdmin(server.adminUrl, server.adminToken);
    await admin.createFlag(FLAG);
    await admin.setVariants(FLAG, [
      { name: 'v1', weight: 900 },
      { name: 'v2', weight: 100 },
    ]);
    await admin.enable(FLAG);

    client = new Unleash({
      url: server.url,
      appName: 'harness-test',
      customHeaders: { Authorization: server.clientToken },
      refreshInterval: 200,
      disableMetrics: true,
      // Keeps the SDK from writing its backup file into the OS temp dir.
      storageProvider: new InMemStorageProvider(),
    });
    const synced = client;
    await new Promise<void>((resolve, reject) => {
      synced.once('synchronized', () => resolve());
      // Without an 'error' listener the SDK's poll loop would throw; a bad token or URL should
      // fail here rather than as a hook timeout.
      synced.on('error', (error: unknown) => {
        clientErrors.push(error);
        reject(error);
      });
    });
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  }, 30_000);

  it('serves the configured variants to the real client', () => {
    if (!client) throw new Error('client not started');
    for (const userId of ['alice', 'bob', 'carol', 'dave']) {
      const variant = client.getVariant(FLAG, { userId });
      expect(variant.enabled).toBe(true);
      expect(['v1', 'v2']).toContain(variant.name);
    }
    // Stickiness: the same user keeps the same variant.
    expect(client.getVariant(FLAG, { userId: 'alice' }).name).toBe(
      client.getVariant(FLAG, { userId: 'alice' }).name,
    );
    expect(shareOf(client, 'v2')).toBeGreaterThanOrEqual(0.08);
    expect(shareOf(client, 'v2')).toBeLessThanOrEqual(0.12);
    expect(clientErrors).toEqual([]);
  });

  it('picks up a weight change made through the Admin API', async () => {
    if (!client) throw new Error('client not started');
    await admin.setVariants(FLAG, [
      { name: 'v1', weight: 500 },
      { name: 'v2', weight: 500 },
    ]);
    const deadline = Date.now() + 5_000;
    let share = shareOf(client, 'v2');
    while (Math.abs(share - 0.5) > 0.03 && Date.now() < deadline) {
      await sleep(100);
      share = shareOf(client, 'v2');
    }
    expect(share).toBeGreaterThanOrEqual(0.47);
    expect(share).toBeLessThanOrEqual(0.53);
    expect(clientErrors).toEqual([]);
  });

  it('drops its database on stop', async () => {
    if (!server) throw new Error('server not started');
    const { database } = server;
    expect(await databaseExists(database)).toBe(true);
    client?.destroy();
    client = undefined;
    await server.stop();
    expect(await databaseExists(database)).toBe(false);
    // Health must be gone too: nothing may keep serving after stop().
    await expect(fetch(`${server.adminUrl}/health`)).rejects.toThrow();
  });
});
