/**
 * The few Unleash 8.2 Admin API calls the integration tests need, always against project
 * `default` and environment `development` (the environment the test client token is bound to).
 */

export interface VariantWeight {
  name: string;
  /** Per mille; the weights of one flag are meant to add up to 1000. */
  weight: number;
}

export interface UnleashAdmin {
  /** Creates an `experiment` flag in project `default`. */
  createFlag(name: string): Promise<void>;
  /**
   * Creates, or replaces in place, the flag's single flexibleRollout strategy in `development`
   * (rollout 100, stickiness default, groupId = flag) carrying `variants`. Weights must add up
   * to 1000. Unleash stores (and serves) strategy variants sorted by name, whatever order they
   * are sent in, and that order decides which bucket range each variant gets.
   */
  setVariants(flag: string, variants: readonly VariantWeight[]): Promise<void>;
  enable(flag: string): Promise<void>;
  disable(flag: string): Promise<void>;
}

const ENVIRONMENT = 'development';

interface StrategyResponse {
  id: string;
  name: string;
}

export function createUnleashAdmin(adminUrl: string, adminToken: string): UnleashAdmin {
  const base = adminUrl.replace(/\/+$/, '');
  // Replacing (PUT) rather than adding keeps exactly one strategy, so the variant split is
  // never the union of an old and a new strategy.
  const strategyIds = new Map<string, string>();

  const featurePath = (flag: string): string =>
    `/api/admin/projects/default/features/${encodeURIComponent(flag)}`;
  const strategiesPath = (flag: string): string =>
    `${featurePath(flag)}/environments/${ENVIRONMENT}/strategies`;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        Authorization: adminToken,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`Unleash admin ${method} ${path} -> HTTP ${response.status}: ${text}`);
    }
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  // A flag set up by an earlier admin instance (or the server) has an id we never saw.
  async function findExistingStrategy(flag: string): Promise<string | undefined> {
    const strategies = (await call('GET', strategiesPath(flag))) as StrategyResponse[];
    return strategies.find((strategy) => strategy.name === 'flexibleRollout')?.id;
  }

  return {
    async createFlag(name) {
      await call('POST', '/api/admin/projects/default/features', { name, type: 'experiment' });
    },

    async setVariants(flag, variants) {
      const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
      if (variants.length > 0 && total !== 1000) {
        throw new Error(`variant weights of ${flag} add up to ${total}, not 1000`);
      }
      const strategy = {
        name: 'flexibleRollout',
        parameters: { rollout: '100', stickiness: 'default', groupId: flag },
        // The server rejects a list without a 'variable' variant and gives the variable ones
        // whatever the fixed ones leave; with a total of 1000 the last keeps its exact weight.
        variants: variants.map(({ name, weight }, index) => ({
          name,
          weight,
          weightType: index === variants.length - 1 ? 'variable' : 'fix',
          stickiness: 'default',
        })),
      };
      const id = strategyIds.get(flag) ?? (await findExistingStrategy(flag));
      if (id === undefined) {
        const created = (await call('POST', strategiesPath(flag), strategy)) as StrategyResponse;
        strategyIds.set(flag, created.id);
      } else {
        await call('PUT', `${strategiesPath(flag)}/${encodeURIComponent(id)}`, strategy);
        strategyIds.set(flag, id);
      }
    },

    async enable(flag) {
      await call('POST', `${featurePath(flag)}/environments/${ENVIRONMENT}/on`);
    },

    async disable(flag) {
      await call('POST', `${featurePath(flag)}/environments/${ENVIRONMENT}/off`);
    },
  };
}
