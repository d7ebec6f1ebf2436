// npm run check-config [-- file]: blindspot check-config without the CLI (see check-file.ts).
import { checkWatchConfigFile } from './check-file.ts';

const { code, text } = checkWatchConfigFile(process.argv[2] ?? 'blindspot.config.yaml');
(code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
process.exitCode = code;
