// The order test files start in (vitest.config.ts): the longest first.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first: they start before anything else, so the run does not
 * end waiting on one of them. vitest orders by the durations of the last run when it has them, but a
 * fresh clone (CI) has none, and it falls back to file size, which put these small files near the end
 * (about 2.5 minutes longer, 2026-12-02). Seconds on 2 vCPU, in the order they run.
 */
export const LONGEST_FIRST = [
  'test/e2e/alert-path-delivery.test.ts', // ~115 s: four faults, each paged and resolved through real Prometheus and Alertmanager
  'test/e2e/alert-path-config.test.ts', // ~85 s
  'test/e2e/real-stack.test.ts', // ~50 s
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (s: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((f) => s.moduleId.endsWith(f));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map((x) => x.spec);
  }
}
