// The benchmarks that run inside workerd (npm run bench:d1 and bench:sim-floor; npm run bench runs them with the others).
// Each prints a BENCH_RESULT line; it is written to bench/results with the machine and versions.
import { defineConfig } from 'vitest/config';
import { machine, record, versions } from './bench/record.ts';
import { workerProject } from './vitest.config.ts';

process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_HIDE_BANNER = 'true';

export default defineConfig({
  test: {
    projects: [workerProject('bench', ['bench/**/*.workerd.test.ts'], 1_800_000)],
    onConsoleLog(log) {
      const at = log.indexOf('BENCH_RESULT ');
      if (at < 0) return undefined;
      const result = JSON.parse(log.slice(at + 'BENCH_RESULT '.length)) as { benchmark: string };
      record(result.benchmark, { ...result, date: new Date().toISOString(), machine: machine(), versions: versions() });
      return false;
    },
  },
});
