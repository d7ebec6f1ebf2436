// A temporary directory for one test, removed when the test ends, pass or fail. The runs keep their
// scratch files on a memory file system where there is one (test/support/memory-tmp.ts): what a
// test leaves behind there takes memory until the machine restarts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
