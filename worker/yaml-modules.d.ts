// wrangler bundles *.yaml as text (see [[rules]] in wrangler.toml); the tests do the same in vitest.config.ts.
declare module '*.yaml' {
  const text: string;
  export default text;
}
