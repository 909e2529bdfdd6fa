import { eq } from 'drizzle-orm';
import type { SecretStore } from '../secrets.js';
import type { Db } from './client.js';
import { secrets } from './schema.js';

export function createSqliteSecretStore(db: Db): SecretStore {
  return {
    async getOrCreate(name, generate) {
      db.insert(secrets).values({ name, value: generate() }).onConflictDoNothing().run();
      const row = db
        .select({ value: secrets.value })
        .from(secrets)
        .where(eq(secrets.name, name))
        .get();
      if (!row) throw new Error(`secret "${name}" vanished right after it was stored`);
      return row.value;
    },
  };
}
