// Tests that need a program from Debian skip with a reason on a developer's machine that lacks it,
// and fail under CI=true, where .ci/run installs everything.
import { existsSync } from 'node:fs';

export function requireBinary(path: string, debianPackage: string): { available: boolean; reason: string } {
  const available = existsSync(path);
  const reason = `${path} is missing: apt-get install ${debianPackage}`;
  if (!available && process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  return { available, reason };
}
