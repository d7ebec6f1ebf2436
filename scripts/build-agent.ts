// npm run build:agent (and npm pack, through prepack): what the npm package ships, in build/.
//   build/blindspot-agent.mjs  the agent and its CLI as one file
//   build/blindspot.mjs        the admin CLI as one file
//   build/otel.mjs             the in-process OpenTelemetry hook (import 'blindspot/otel')
// Each needs only Node >= 20: no node_modules, no TypeScript loader. The CLIs bundle every dependency;
// the hook leaves @opentelemetry/* to the application (optional peer dependencies), so it plugs into
// the SDK the application already runs rather than a second copy of it.
import { build } from 'esbuild';

// CommonJS dependencies (yaml, the exposition parser) call require(): give them one.
const REQUIRE = "import { createRequire as __blindspotRequire } from 'node:module';\nconst require = __blindspotRequire(import.meta.url);";

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'linked',
  logLevel: 'warning',
} as const;

/** A CLI: its `main(argv)` run with the process's arguments, its exit code the process's. */
async function cli(entry: string, outfile: string): Promise<void> {
  await build({
    ...common,
    stdin: {
      contents: `import { main } from './${entry}';\nprocess.exitCode = await main(process.argv.slice(2));\n`,
      resolveDir: '.',
      sourcefile: outfile.replace(/^build\//, '').replace(/\.mjs$/, '.ts'),
      loader: 'ts',
    },
    outfile,
    banner: { js: `#!/usr/bin/env node\n${REQUIRE}` },
  });
}

await cli('agent/cli.ts', 'build/blindspot-agent.mjs');
await cli('cli/blindspot.ts', 'build/blindspot.mjs');
await build({
  ...common,
  entryPoints: ['agent/otel/index.ts'],
  outfile: 'build/otel.mjs',
  external: ['@opentelemetry/*'],
  banner: { js: REQUIRE },
});
process.stdout.write('built build/blindspot-agent.mjs, build/blindspot.mjs, build/otel.mjs\n');
