import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialState } from '../src/control/deployments.js';
import { createDb, createPool, migratePostgres } from '../src/db/pg/client.js';
import { createPgDeploymentStore } from '../src/db/pg/deployment-store.js';
import { testEvent } from './support/deployment-event.js';
import { createTestDatabase, type TestDatabase } from './support/pg-database.js';

let database: TestDatabase;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, () => {});
  await migratePostgres(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const initial = initialState('iris', ['v1', 'v2']);

describe('PostgreSQL deployment store: a slow re-read never undoes a newer commit', () => {
  it('drops the older row a re-read brings back after a commit has landed', async () => {
    const store = createPgDeploymentStore(createDb(pool));
    await store.commit(initial, testEvent('init', 'v1'));

    // Hold the re-read between its SELECT and the moment it lands (the replica
    // loading the versions the row needs), and commit a newer revision meanwhile.
    let readArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      readArrived = resolve;
    });
    let releaseRead!: () => void;
    const released = new Promise<void>((resolve) => {
      releaseRead = resolve;
    });
    store.prepareWith(async (next) => {
      if (next.revision !== 0) return;
      readArrived();
      await released;
    });
    const slowRead = store.reload('iris');
    await arrived;
    await store.commit(
      { ...initial, live: 'v2', standby: 'v1', revision: 1 },
      testEvent('flip', 'v2'),
    );
    releaseRead();
    await slowRead;

    expect(store.get('iris')).toMatchObject({ live: 'v2', revision: 1 });
  });
});
