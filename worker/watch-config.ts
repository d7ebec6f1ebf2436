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

let cached: { text: string; env: object; vars: string; loaded: LoadedConfig } | null = null;

export function watchConfig(env: { BLINDSPOT_CONFIG?: string }): LoadedConfig {
  const fromEnv = env.BLINDSPOT_CONFIG !== undefined && env.BLINDSPOT_CONFIG.trim() !== '';
  const text = fromEnv ? (env.BLINDSPOT_CONFIG as string) : bundledText;
  // Called on every decision: the same text and the same bindings object are the same configuration.
  if (cached !== null && cached.text === text && cached.env === env) return cached.loaded;
  // ${VAR} in the configuration reads the Worker's string bindings, never its secrets: what the
  // configuration says (a component's name, a description) can reach the public status page.
  const vars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && secretBinding(e[0]) === null),
  );
  const varsKey = JSON.stringify(vars);
  if (cached !== null && cached.text === text && cached.vars === varsKey) {
    cached.env = env;
    return cached.loaded;
  }
  const source = fromEnv ? 'BLINDSPOT_CONFIG' : 'blindspot.config.yaml';
  const result = loadConfigText(text, { file: source, env: vars, refuse: secretBinding });
  const loaded: LoadedConfig = result.ok
    ? { config: result.config, errors: [], source }
    : { config: defaultConfig(), errors: result.errors, source };
  if (!result.ok) console.error(`${source} is invalid; running on the defaults until it is fixed:\n  ${result.errors.join('\n  ')}`);
  cached = { text, env, vars: varsKey, loaded };
  return loaded;
}

/** The Worker's own secrets, and any binding named like one (…SECRET…, …TOKEN…, …PASSWORD…, …_KEY). */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|(^|_)KEY(S)?($|_)/i;

/** Why the configuration may not read this binding, or null when it may. */
export function secretBinding(name: string): string | null {
  if (name === 'BLINDSPOT_CONFIG') return 'the configuration cannot read itself';
  return SECRET_NAME.test(name)
    ? `${name} is a secret (its name says so), and the watchdog configuration may not read secrets: what it says can reach the public status page. Put the value in a plain var with another name, or in the file itself`
    : null;
}
