/** Values every process sharing the database must agree on. */
export interface SecretStore {
  /**
   * The stored value of `name`; when there is none, `generate()` is stored and
   * returned. Of two processes asking at once, both get the first one stored.
   */
  getOrCreate(name: string, generate: () => string): Promise<string>;
}
