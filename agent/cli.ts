// blindspot-agent: run | once | keygen | test-channel. Exit codes: 0 ok, 1 unhealthy or failed, 2 usage or config error.
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
  test-channel <id>
           ask the Worker to send a test notification through channel <id> and report what the
           receiver answered; needs BLINDSPOT_WORKER_URL and BLINDSPOT_ADMIN_TOKEN

options:
  -c, --config <file>  configuration file (YAML or JSON); default $BLINDSPOT_CONFIG or ./blindspot-agent.yaml
  -h, --help           show this help

environment: BLINDSPOT_CONFIG, BLINDSPOT_SECRET, BLINDSPOT_AGENT_ID, BLINDSPOT_WORKER_URL, BLINDSPOT_INTERVAL_S
override the file; BLINDSPOT_ADMIN_TOKEN is read by test-channel only.`;

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
  if (command === 'test-channel') return testChannel(extra);
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

interface TestFireAnswer {
  ok: boolean;
  type: string;
  sent: { event: string; status: number | null; outcome: string; latency_ms: number; error: string | null }[];
}

/** Exit 0 when the receiver took the test, 1 when it did not (or the Worker refused), 2 on usage errors. */
async function testChannel(args: string[]): Promise<number> {
  const [id, ...rest] = args;
  const fail = (message: string, code: number) => (process.stderr.write(`blindspot-agent test-channel: ${message}\n`), code);
  if (id === undefined || rest.length > 0) return fail('give exactly one channel id, e.g. blindspot-agent test-channel oncall', 2);
  const base = process.env.BLINDSPOT_WORKER_URL?.trim();
  const token = process.env.BLINDSPOT_ADMIN_TOKEN?.trim();
  if (!base || !URL.canParse(base)) return fail('set BLINDSPOT_WORKER_URL to the Worker\'s URL, e.g. https://blindspot.example.workers.dev', 2);
  if (!token) return fail('set BLINDSPOT_ADMIN_TOKEN to one of the tokens in the Worker\'s BLINDSPOT_ADMIN_TOKENS', 2);
  let res: Response;
  try {
    res = await fetch(new URL(`/v1/admin/channels/${encodeURIComponent(id)}/test`, base), { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
  } catch (e: unknown) {
    return fail(`could not reach ${new URL(base).origin}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  const body = (await res.json().catch(() => null)) as (TestFireAnswer & { error?: { message: string } }) | null;
  if (!res.ok || body === null) return fail(body?.error?.message ?? `the Worker answered HTTP ${res.status}`, 1);
  for (const s of body.sent) process.stdout.write(`${id} (${body.type}) ${s.event}: ${s.outcome}${s.status === null ? '' : `, HTTP ${s.status}`}, ${s.latency_ms} ms${s.error ? ` — ${s.error}` : ''}\n`);
  process.stdout.write(body.ok ? `${id}: the receiver took the test notification\n` : `${id}: the test notification was NOT delivered\n`);
  return body.ok ? 0 : 1;
}
