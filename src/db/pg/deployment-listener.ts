import pg from 'pg';
import { backoff } from '../../backoff.js';
import { messageOf } from './errors.js';
import type { PgHealth } from './health.js';

export interface DeploymentListenerOptions {
  url: string;
  channel: string;
  /** A replica changed this model's row. */
  onNotify(model: string): void;
  /** (Re)connected and listening: notifications sent while away are lost, so re-read everything. */
  onListening(): Promise<void>;
  health: PgHealth;
  onWarn(message: string, error?: unknown): void;
  /** False for command-line tools: they must never hold the lock a replica needs to lead. */
  lead?: boolean;
}

export interface DeploymentListener {
  /**
   * A round trip on the listening connection (a dead one is replaced), which also
   * tries to take the leader lock if this replica does not hold it.
   */
  ping(): Promise<void>;
  /** Whether this replica holds the leader lock: a session lock on the listening connection. */
  isLeader(): boolean;
  close(): Promise<void>;
}

/** pg_try_advisory_lock key of the replica that drives progressive rollouts ("mg" "ro"). */
const LEADER_LOCK = 0x6d67_726f;
const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 5_000;

/**
 * One dedicated connection doing `LISTEN`, kept alive: when it errors or ends it is
 * replaced, retrying with backoff (250 ms doubling to 5 s). Never throws: failures go
 * to health and onWarn.
 */
export async function startDeploymentListener(
  options: DeploymentListenerOptions,
): Promise<DeploymentListener> {
  let active: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const reconnect = backoff({ firstMs: FIRST_RETRY_MS, lastMs: LAST_RETRY_MS });
  let closed = false;
  // Held by the session: lost with the connection, when the server releases it for the next.
  let leader = false;
  let pinging = false;

  const tryLead = async (client: pg.Client): Promise<void> => {
    if (leader || options.lead === false) return;
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [LEADER_LOCK],
    );
    leader = client === active && rows[0]?.locked === true;
  };

  const lost = (client: pg.Client, error: unknown): void => {
    if (client !== active || closed) return;
    active = undefined;
    leader = false;
    client.end().catch(() => {});
    options.health.failed('deployment listener', error);
    options.onWarn(`postgres: deployment listener lost (${messageOf(error)}); reconnecting`, error);
    schedule();
  };

  const schedule = (): void => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, reconnect.next());
    retry.unref();
  };

  const connect = async (): Promise<void> => {
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
      keepAlive: true,
    });
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      if (message.channel === options.channel && message.payload) options.onNotify(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${options.channel}`);
    } catch (error) {
      client.end().catch(() => {});
      options.health.failed('deployment listener', error);
      options.onWarn(`postgres: deployment listener cannot connect (${messageOf(error)})`, error);
      schedule();
      return;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    active = client;
    reconnect.reset();
    try {
      pinging = true; // the lock query below must not overlap a ping on this connection
      await tryLead(client).finally(() => {
        pinging = false;
      });
      await options.onListening();
      options.health.recovered('deployment listener');
    } catch (error) {
      // Listening, but the re-read failed: the database is still not answering.
      lost(client, error);
    }
  };

  await connect();

  return {
    async ping() {
      const client = active;
      // One at a time: a ping still waiting on a dying connection is not joined by another.
      if (!client || pinging) return;
      pinging = true;
      try {
        await client.query('SELECT 1');
        await tryLead(client);
      } catch (error) {
        lost(client, error);
      } finally {
        pinging = false;
      }
    },
    isLeader: () => leader,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      const client = active;
      active = undefined;
      leader = false;
      await client?.end().catch(() => {});
    },
  };
}
