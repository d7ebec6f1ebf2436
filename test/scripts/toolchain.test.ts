// Every npm script and npx run on the Node 24 that the devDependency "node" installs, whatever Node
// runs npm itself: this test runs under `npm test`, so it runs on that Node.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('toolchain', () => {
  it('runs the tests and npm scripts on Node 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
    expect(execFileSync('npm', ['run', '--silent', 'node-version'], { encoding: 'utf8' }).trim()).toMatch(/^v24\./);
  });
});
