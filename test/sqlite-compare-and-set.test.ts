import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initialState } from '../src/control/deployments.js';
import type { DeploymentState } from '../src/db/deployment-state.js';
import { openDatabase } from '../src/db/sqlite/client.js';
import { createSqliteDeploymentStore } from '../src/db/sqlite/deployment-store.js';
import { testEvent } from './support/deployment-event.js';

const dir = mkdtempSync(join(tmpdir(), 'modelgate-cas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const initial = initialState('iris', ['v1', 'v2']);

describe('SQLite deployment store: compare-and-set on the revision', () => {
  it('refuses a change made from a stale revision and keeps the one that landed', async () => {
    const path = join(dir, 'cas.db');
    // Two stores on one file, each with its own view: the second has not seen the first's change.
    const first = createSqliteDeploymentStore(openDatabase(path));
    await first.commit(initial, testEvent('init', 'v1'));
    const second = createSqliteDeploymentStore(openDatabase(path));
    const seen = second.get('iris');
    expect(seen?.revision).toBe(0);

    await first.commit(
      { ...initial, live: 'v2', standby: 'v1', revision: 1 },
      testEvent('flip', 'v2'),
    );
    await expect(
      second.commit(
        { ...(seen as DeploymentState), shadow: { version: 'v2', percent: 50 }, revision: 1 },
        testEvent('shadow', 'v2'),
      ),
    ).rejects.toMatchObject({ status: 409, code: 'conflict' });

    // Nothing of the refused change was written: neither its state nor its audit row.
    const reread = await second.reload('iris');
    expect(reread).toMatchObject({ live: 'v2', shadow: null, revision: 1 });
    expect((await second.events('iris', 10)).map((e) => e.action)).toEqual(['flip', 'init']);
  });
});
