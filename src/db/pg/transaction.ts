import type pg from 'pg';

/**
 * Runs `work` inside BEGIN … COMMIT on one pooled connection. On any error it rolls back and
 * hands the connection back marked broken (the pool closes it rather than reuse a session
 * whose state is unknown), then rethrows.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = true;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(broken);
  }
}
