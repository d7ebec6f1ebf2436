// Reads the configuration text (YAML or JSON) and returns the resolved configuration or every error,
// each naming the field and the fix. Used by the Worker at load and by `npm run check-config`.
import * as v from 'valibot';
import { parseDocument } from 'yaml';
import { type ResolveResult, resolveConfig, type WatchConfig } from './resolve.ts';
import { ConfigFileSchema } from './schema.ts';

export type LoadResult = ResolveResult;

const MAX_ERRORS = 20;

export function loadConfigText(text: string): LoadResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.slice(0, MAX_ERRORS).map((e) => `YAML: ${e.message.split('\n')[0]}`) };
  const raw: unknown = doc.toJS() ?? {};
  const parsed = v.safeParse(ConfigFileSchema, raw);
  if (!parsed.success) {
    const errors = parsed.issues.slice(0, MAX_ERRORS).map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    return { ok: false, errors };
  }
  return resolveConfig(parsed.output);
}

/** The configuration a deployment gets with an empty file: every signal judged by its kind's defaults. */
export function defaultConfig(): WatchConfig {
  const result = loadConfigText('{}');
  if (!result.ok) throw new Error(`the built-in defaults do not validate: ${result.errors.join('; ')}`);
  return result.config;
}
