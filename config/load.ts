// Reads the configuration text (YAML or JSON) and returns the resolved configuration or every error,
// each naming the field and the fix. Used by the Worker at load and by `npm run check-config`.
import * as v from 'valibot';
import { locateIssues, MAX_ERRORS, type RefuseVariable, readYaml } from './positions.ts';
import { type ResolveResult, resolveConfig, type WatchConfig } from './resolve.ts';
import { ConfigFileSchema } from './schema.ts';

export type LoadResult = ResolveResult;

export interface LoadOptions {
  /** The file the text came from: every error then starts file:line:col. */
  file?: string;
  /** Variables for ${VAR} / ${env:VAR} in string values (the Worker's string bindings, or the shell's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Variables that may not be read, and why (the Worker's secrets). */
  refuse?: RefuseVariable;
}

export function loadConfigText(text: string, options: LoadOptions = {}): LoadResult {
  const file = options.file;
  const read = readYaml(text, file ?? 'configuration', options.env ?? {}, options.refuse);
  if (!read.ok) return { ok: false, errors: read.errors };
  const parsed = v.safeParse(ConfigFileSchema, read.value);
  if (!parsed.success) {
    if (file !== undefined) return { ok: false, errors: locateIssues(parsed.issues, read.locate) };
    const errors = parsed.issues.slice(0, MAX_ERRORS).map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    return { ok: false, errors };
  }
  const resolved = resolveConfig(parsed.output);
  return resolved.ok || file === undefined ? resolved : { ok: false, errors: resolved.errors.map((e) => `${file}: ${e}`) };
}

/** The configuration a deployment gets with an empty file: every signal judged by its kind's defaults. */
export function defaultConfig(): WatchConfig {
  const result = loadConfigText('{}');
  if (!result.ok) throw new Error(`the built-in defaults do not validate: ${result.errors.join('; ')}`);
  return result.config;
}
