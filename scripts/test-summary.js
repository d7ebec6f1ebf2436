#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" from vitest's JSON report, and fails when no test ran.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync('test-artifacts/vitest.json', 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) {
  console.error('no test ran');
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
