// blindspot-agent: run | once | keygen. Exit codes: 0 ok, 1 unhealthy or failed, 2 usage or config error.
import { parseArgs } from 'node:util';
import { generateSecret } from '../protocol/signature.ts';
import { ConfigError, loadConfig } from './config.ts';
import { stderrLogger } from './log.ts';
import { collectHeartbeat, newBoot, runAgent } from './main.ts';

const USAGE = `usage: blindspot-agent <command> [--config <file>]

commands:
  run      send a signed heartbeat every interval_s until stopped (SIGINT/SIGTERM)
  once     measure once and print the heartbeat as JSON; exit 1 if any signal could not be measured
  keygen   print a new whsec_ secret for an agent

options:
  -c, --config <file>  configuration file (YAML or JSON); default $BLINDSPOT_CONFIG or ./blindspot-agent.yaml
  -h, --help           show this help

environment: BLINDSPOT_CONFIG, BLINDSPOT_SECRET, BLINDSPOT_AGENT_ID, BLINDSPOT_WORKER_URL, BLINDSPOT_INTERVAL_S
override the file.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e: unknown) {
    process.stderr.write(`blindspot-agent: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === undefined || extra.length > 0 || !['run', 'once', 'keygen'].includes(command)) {
    process.stderr.write(`blindspot-agent: ${command === undefined ? 'a command is required' : `unknown command "${[command, ...extra].join(' ')}"`}\n${USAGE}\n`);
    return 2;
  }
  if (command === 'keygen') {
    process.stdout.write(`${generateSecret()}\n`);
    return 0;
  }
  const path = parsed.values.config ?? process.env.BLINDSPOT_CONFIG ?? 'blindspot-agent.yaml';
  let config;
  try {
    config = loadConfig(path);
  } catch (e: unknown) {
    if (e instanceof ConfigError) {
      process.stderr.write(`blindspot-agent: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (command === 'once') {
    const body = await collectHeartbeat(config, newBoot(), 1);
    process.stdout.write(`${JSON.stringify(JSON.parse(body), null, 2)}\n`);
    const unknown = (JSON.parse(body) as { signals: { value: number | null }[] }).signals.filter((s) => s.value === null).length;
    return unknown === 0 ? 0 : 1;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await runAgent(config, stderrLogger, controller.signal);
  return 0;
}
