// The release both CLIs and the agent report (--version, the User-Agent): package.json's version,
// bundled into the single-file agent at build time.
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
