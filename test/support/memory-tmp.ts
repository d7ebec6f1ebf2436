// Puts the test and benchmark runtimes' scratch files (workerd's SQLite files for Durable Objects and the local D1)
// on a memory file system where the machine has one. Every storage transaction ends in an fsync; on
// a disk that was half of the simulator's time (2026-12-02, 2 vCPU: 200 seeds in 42 s on disk, 21 s
// in memory). Elsewhere, or where it has less than 2 GiB free, the system's temporary directory is used.
import { accessSync, constants, statSync, statfsSync } from 'node:fs';

const MEMORY_FS = '/dev/shm';
/** A memory file system smaller than this (a container's default is 64 MiB) is passed over: the runs would fill it. */
const MIN_FREE_BYTES = 2 * 1024 ** 3;

export function preferMemoryTmp(): void {
  if (process.env.BLINDSPOT_TEST_TMPDIR !== undefined) {
    process.env.TMPDIR = process.env.BLINDSPOT_TEST_TMPDIR;
    return;
  }
  try {
    if (!statSync(MEMORY_FS).isDirectory()) return;
    accessSync(MEMORY_FS, constants.W_OK);
    const fs = statfsSync(MEMORY_FS);
    if (fs.bavail * fs.bsize < MIN_FREE_BYTES) return;
    process.env.TMPDIR = MEMORY_FS;
  } catch {
    // No memory file system here: the default temporary directory it is.
  }
}
