#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" from vitest's JSON reports (the main suite and the fault
// suite), and fails when a test or a whole file failed (a file whose setup throws has its tests
// skipped, not failed), when vitest itself says the run failed (an unhandled error), when no test
// ran, or when a report is missing.
import { existsSync, readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-artifacts/vitest.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
const unsuccessful = [];
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: that suite did not run to the end`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (report.success === false) unsuccessful.push(file);
  for (const suite of report.testResults ?? [])
    if (suite.status === 'failed') failedFiles.push(`${suite.name}: ${String(suite.message ?? '').split('\n')[0]}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failedFiles.length > 0) console.error(`${failedFiles.length} test file(s) failed:\n${failedFiles.map((f) => `  ${f}`).join('\n')}`);
if (passed + failed === 0) {
  console.error('no test ran');
  process.exit(1);
}
if (unsuccessful.length > 0) console.error(`vitest reports the run failed (an unhandled error?): ${unsuccessful.join(', ')}`);
process.exit(failed > 0 || failedFiles.length > 0 || unsuccessful.length > 0 ? 1 : 0);
