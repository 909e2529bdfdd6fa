import { createHmac } from 'node:crypto';

/**
 * The user's key as stored in the log: HMAC-SHA256 under a key only the
 * gateways hold, first 32 hex digits. A plain hash would let anyone with the
 * log confirm a guessed e-mail address by hashing it; without the key they
 * cannot. Stable for a given key, so a user's rows can still be grouped.
 * (Routing never uses this: the sticky bucket is Unleash's murmurhash.)
 */
export function createUserHasher(key: string): (userKey: string) => string {
  return (userKey) => createHmac('sha256', key).update(userKey).digest('hex').slice(0, 32);
}

/** The name under which a generated key is kept in the database for every replica. */
export const USER_HASH_SECRET = 'user_hash_key';
