// The watchdog configuration the Worker runs with: BLINDSPOT_CONFIG (YAML or JSON text) when set,
// otherwise blindspot.config.yaml bundled at deploy time. An invalid configuration never stops
// detection: the Worker runs on the defaults, logs every error, and /healthz reports them.
import bundledText from '../blindspot.config.yaml';
import { defaultConfig, loadConfigText } from '../config/load.ts';
import type { WatchConfig } from '../config/resolve.ts';

export interface LoadedConfig {
  config: WatchConfig;
  errors: string[];
  source: 'BLINDSPOT_CONFIG' | 'blindspot.config.yaml';
}

let cached: { text: string; loaded: LoadedConfig } | null = null;

export function watchConfig(env: { BLINDSPOT_CONFIG?: string }): LoadedConfig {
  // ${VAR} in the configuration reads the Worker's string bindings (its vars and secrets).
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const fromEnv = env.BLINDSPOT_CONFIG !== undefined && env.BLINDSPOT_CONFIG.trim() !== '';
  const text = fromEnv ? (env.BLINDSPOT_CONFIG as string) : bundledText;
  if (cached !== null && cached.text === text) return cached.loaded;
  const source = fromEnv ? 'BLINDSPOT_CONFIG' : 'blindspot.config.yaml';
  const result = loadConfigText(text, { file: source, env: vars });
  const loaded: LoadedConfig = result.ok
    ? { config: result.config, errors: [], source }
    : { config: defaultConfig(), errors: result.errors, source };
  if (!result.ok) console.error(`${source} is invalid; running on the defaults until it is fixed:\n  ${result.errors.join('\n  ')}`);
  cached = { text, loaded };
  return loaded;
}
