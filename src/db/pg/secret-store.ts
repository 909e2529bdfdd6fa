import { eq } from 'drizzle-orm';
import type { SecretStore } from '../secrets.js';
import type { PgDb } from './client.js';
import { whileReachable } from './errors.js';
import { secrets } from './schema.js';

export function createPgSecretStore(db: PgDb): SecretStore {
  return {
    async getOrCreate(name, generate) {
      // Replicas starting together both insert; the primary key keeps the first, both read it.
      await whileReachable(
        db.insert(secrets).values({ name, value: generate() }).onConflictDoNothing(),
      );
      const [row] = await whileReachable(
        db.select({ value: secrets.value }).from(secrets).where(eq(secrets.name, name)),
      );
      if (!row) throw new Error(`secret "${name}" vanished right after it was stored`);
      return row.value;
    },
  };
}
