// Puts the test and benchmark runtimes' scratch files (workerd's SQLite files for Durable Objects and the local D1)
// on a memory file system where the machine has one. Every storage transaction ends in an fsync; on
// a disk that was half of the simulator's time (2026-12-02, 2 vCPU: 200 seeds in 42 s on disk, 21 s
// in memory). Elsewhere the system's temporary directory is used, as before.
import { accessSync, constants, statSync } from 'node:fs';

const MEMORY_FS = '/dev/shm';

export function preferMemoryTmp(): void {
  if (process.env.BLINDSPOT_TEST_TMPDIR !== undefined) {
    process.env.TMPDIR = process.env.BLINDSPOT_TEST_TMPDIR;
    return;
  }
  try {
    if (!statSync(MEMORY_FS).isDirectory()) return;
    accessSync(MEMORY_FS, constants.W_OK);
    process.env.TMPDIR = MEMORY_FS;
  } catch {
    // No memory file system here: the default temporary directory it is.
  }
}
