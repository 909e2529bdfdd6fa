import { InMemStorageProvider, Unleash } from 'unleash-client';
import type { UnleashConfig } from '../config.js';
import type { FlagVariant } from './routing.js';

export interface FlagContext {
  userId?: string;
  sessionId?: string;
}

export interface FlagStatus {
  mode: 'unleash' | 'none';
  synchronized: boolean;
  lastError: string | null;
}

/** Where a traffic split comes from when a model's split source is "unleash". */
export interface FlagSource {
  variant(flag: string, context: FlagContext): FlagVariant | undefined;
  /** The flag's variant weights (per mille) as Unleash serves them, for the sample-ratio test. */
  variantWeights(flag: string): Record<string, number> | undefined;
  /** Called with the flag name when its variants or enabled state change after the first sync. */
  onVariantsChanged(listener: (flag: string) => void): void;
  status(): FlagStatus;
  close(): void;
}

/** Local mode: no flags, so routing falls through to local splits and live. */
export function createNoFlags(): FlagSource {
  return {
    variant: () => undefined,
    variantWeights: () => undefined,
    onVariantsChanged: () => {},
    status: () => ({ mode: 'none', synchronized: false, lastError: null }),
    close: () => {},
  };
}

export interface UnleashFlagsOptions extends UnleashConfig {
  flagPrefix: string;
  onWarn: (message: string) => void;
}

/**
 * Follows Unleash flags named `<prefix><model>`. If Unleash is unreachable the
 * client keeps its last known flags; before the first sync every variant is
 * disabled, so traffic goes to live.
 */
export function createUnleashFlags(options: UnleashFlagsOptions): FlagSource {
  const client = new Unleash({
    url: options.url,
    appName: options.appName,
    refreshInterval: options.refreshIntervalMs,
    customHeaders: options.apiToken ? { Authorization: options.apiToken } : {},
    // Flags live in memory only: a stale backup file must never steer traffic after a restart.
    storageProvider: new InMemStorageProvider(),
    disableMetrics: true,
  });
  const listeners: Array<(flag: string) => void> = [];
  const signatures = new Map<string, string>();
  let synchronized = false;
  let lastError: string | null = null;
  let lastWarnedError: string | null = null;

  client.on('error', (error: Error) => {
    lastError = error.message;
    if (lastWarnedError !== error.message) options.onWarn(`unleash: ${error.message}`);
    lastWarnedError = error.message;
  });
  client.on('synchronized', () => {
    synchronized = true;
  });
  client.on('changed', () => {
    lastError = null;
    lastWarnedError = null;
    for (const definition of client.getFeatureToggleDefinitions() ?? []) {
      if (!definition.name.startsWith(options.flagPrefix)) continue;
      const signature = JSON.stringify([
        definition.enabled,
        definition.strategies?.map((strategy) => strategy.variants ?? []),
        definition.variants ?? [],
      ]);
      const previous = signatures.get(definition.name);
      signatures.set(definition.name, signature);
      if (previous !== undefined && previous !== signature) {
        for (const listener of listeners) listener(definition.name);
      }
    }
  });

  return {
    variant(flag, context) {
      const variant = client.getVariant(flag, { ...context });
      return { enabled: variant.enabled && variant.feature_enabled !== false, name: variant.name };
    },
    variantWeights(flag) {
      const definition = client.getFeatureToggleDefinition(flag);
      if (!definition?.enabled) return undefined;
      const variants =
        definition.strategies?.find((strategy) => (strategy.variants?.length ?? 0) > 0)?.variants ??
        definition.variants ??
        [];
      if (variants.length === 0) return undefined;
      return Object.fromEntries(variants.map((variant) => [variant.name, variant.weight]));
    },
    onVariantsChanged(listener) {
      listeners.push(listener);
    },
    status: () => ({ mode: 'unleash', synchronized, lastError }),
    close: () => client.destroy(),
  };
}
