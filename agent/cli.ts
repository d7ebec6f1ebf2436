// blindspot-agent: run | once | doctor | validate | keygen | test-channel | completion.
// Exit codes: 0 ok, 1 unhealthy, failed or (validate) invalid, 2 usage or config error.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { defaultConfig, loadConfigText } from '../config/load.ts';
import type { WatchConfig } from '../config/resolve.ts';
import { generateSecret } from '../protocol/signature.ts';
import { completionScript } from '../protocol/completion.ts';
import { VERSION } from '../protocol/version.ts';
import { ConfigError, loadConfig } from './config.ts';
import { cannotFireTable, doctor, doctorTable } from './doctor.ts';
import { allUp, judge, verdictTable } from './judge.ts';
import { stderrLogger } from './log.ts';
import { collectHeartbeat, newBoot, probesOf, runAgent } from './main.ts';
import { tryJson } from './probes/prometheus-api.ts';
import { collectAll } from './probes/registry.ts';
import { type HttpAnswer, reasonOf, requestText } from './transport/http-client.ts';

const USAGE = `usage: blindspot-agent <command> [--config <file>]

commands:
  run      send a signed heartbeat every interval_s until stopped (SIGINT/SIGTERM)
  validate [<file>]
           check a configuration offline (nothing is contacted): exit 0 valid, 1 invalid, each error
           as file:line:col: key path: what is wrong and the fix
  once     measure once, print the heartbeat as JSON on stdout and each signal's verdict on stderr;
           exit 0 only when every signal is within its thresholds (those of --watchdog-config, else
           each kind's defaults), 1 otherwise
  doctor   run every probe once and check the Worker answers; print OK or FAIL per probe with the
           reason and a fix; exit 0 when all are OK
  keygen   print a new whsec_ secret for an agent (blindspot agent add makes one the Worker knows)
  completion bash|zsh
           print a shell completion script: source <(blindspot-agent completion bash)
  test-channel <id>
           ask the Worker to send a test notification through channel <id> and report what the
           receiver answered; needs BLINDSPOT_WORKER_URL and BLINDSPOT_ADMIN_TOKEN

options:
  -c, --config <file>  configuration file (YAML or JSON); default $BLINDSPOT_CONFIG or ./blindspot-agent.yaml
  -w, --watchdog-config <file>
                       the Worker's blindspot.config.yaml, for once: judge with its monitors' thresholds
  --over <seconds>     for once: read counters twice, this far apart, so "dropped" signals count what
                       happened in between (a single reading only sets their baseline: 0)
  -o, --output text|json
                       doctor: json prints the checks and the rules that cannot fire as JSON
  -h, --help           show this help (blindspot-agent <command> --help: that command's)
  -V, --version        print the version

environment (overrides the file, like OTEL_* for an OpenTelemetry SDK):
  BLINDSPOT_CONFIG, BLINDSPOT_SECRET, BLINDSPOT_<KEY> for each top-level key (BLINDSPOT_AGENT_ID,
  BLINDSPOT_WORKER_URL, BLINDSPOT_INTERVAL_S, BLINDSPOT_SPOOL_DIR, ...), BLINDSPOT_LABELS=k=v,k=v
  (labels on every signal). BLINDSPOT_ADMIN_TOKEN is read by test-channel only.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'watchdog-config': { type: 'string', short: 'w' },
        over: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (e: unknown) {
    process.stderr.write(`blindspot-agent: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.version) {
    process.stdout.write(`blindspot-agent ${VERSION}\n`);
    return 0;
  }
  if (parsed.values.help || command === 'help') {
    process.stdout.write(`${helpFor(command === 'help' ? extra[0] : command)}\n`);
    return 0;
  }
  const output = parsed.values.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    process.stderr.write(`blindspot-agent: -o/--output is text or json, not "${output}"\n`);
    return 2;
  }
  if (command === 'test-channel') return testChannel(extra);
  if (command === 'completion') {
    const shell = extra[0] ?? 'bash';
    if (extra.length > 1 || (shell !== 'bash' && shell !== 'zsh')) {
      process.stderr.write('blindspot-agent: completion is for bash or zsh: blindspot-agent completion bash\n');
      return 2;
    }
    process.stdout.write(completionScript('blindspot-agent', COMMANDS, shell));
    return 0;
  }
  if (command === 'validate') return validate(extra, parsed.values.config);
  if (command === undefined || extra.length > 0 || !['run', 'once', 'doctor', 'keygen'].includes(command)) {
    process.stderr.write(
      `blindspot-agent: ${command === undefined ? 'a command is required' : `unknown command "${[command, ...extra].join(' ')}"`}\n${USAGE}\n`,
    );
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
    const watch = watchdogConfig(parsed.values['watchdog-config']);
    if (watch === null) return 2;
    const over = Number(parsed.values.over ?? 0);
    if (!Number.isFinite(over) || over < 0 || over > 600) {
      process.stderr.write(`blindspot-agent: --over is a number of seconds from 0 to 600 (got ${parsed.values.over})\n`);
      return 2;
    }
    const probes = probesOf(config);
    if (over > 0) {
      await collectAll(probes, config.labels);
      await new Promise((r) => setTimeout(r, over * 1000));
    }
    const { body, collected } = await collectHeartbeat(config, newBoot(), 1, probes);
    process.stdout.write(`${JSON.stringify(JSON.parse(body), null, 2)}\n`);
    const verdicts = judge(watch, config.agent_id, collected.signals);
    process.stderr.write(`${verdictTable(verdicts)}\n`);
    return allUp(verdicts) ? 0 : 1;
  }
  if (command === 'doctor') {
    const { checks, rules } = await doctor(config, probesOf(config));
    if (output === 'json') {
      const cannotFire = rules.flatMap((r) => r.cannotFire);
      process.stdout.write(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks, cannot_fire: cannotFire }, null, 2)}\n`);
      return checks.every((c) => c.ok) ? 0 : 1;
    }
    process.stdout.write(`${doctorTable(checks)}\n`);
    const cannot = cannotFireTable(rules);
    if (cannot !== '') process.stdout.write(`\n${cannot}\n`);
    return checks.every((c) => c.ok) ? 0 : 1;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await runAgent(config, stderrLogger, controller.signal);
  return 0;
}

const COMMANDS: Record<string, readonly string[]> = {
  run: [],
  once: [],
  doctor: [],
  validate: [],
  keygen: [],
  'test-channel': [],
  completion: ['bash', 'zsh'],
  help: ['run', 'once', 'doctor', 'validate', 'keygen', 'test-channel', 'completion'],
};

/** One command's help (blindspot-agent doctor --help), or all of it. */
export function helpFor(command: string | undefined): string {
  if (command === undefined || !(command in COMMANDS) || command === 'help') return USAGE;
  const [, commands = '', rest = ''] = /^[^\n]*\n\ncommands:\n([\s\S]*?)\n\n([\s\S]*)$/.exec(USAGE) ?? [];
  const blocks = commands.split(/\n(?= {2}\S)/);
  const own = blocks.find((b) => b.startsWith(`  ${command} `) || b.startsWith(`  ${command}\n`) || b === `  ${command}`) ?? '';
  return `usage: blindspot-agent ${command} [options]\n\n${own}\n\n${rest}`;
}

/** validate [<file>]: the configuration checked offline; every error at once, with where it is. */
function validate(args: string[], flag: string | undefined): number {
  if (args.length > 1 || (args.length === 1 && flag !== undefined)) {
    process.stderr.write('blindspot-agent: validate takes one file: blindspot-agent validate agent.yaml\n');
    return 2;
  }
  const path = args[0] ?? flag ?? process.env.BLINDSPOT_CONFIG ?? 'blindspot-agent.yaml';
  try {
    const config = loadConfig(path);
    process.stdout.write(
      `${path} is valid: agent ${config.agent_id}, ${config.probes.length} probe(s), heartbeat every ${config.interval_s} s to ${config.worker_url}\n`,
    );
    return 0;
  } catch (e: unknown) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(
      `${path} is invalid:\n${e.message
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
    return 1;
  }
}

/** The watchdog configuration `once` judges by; null (after saying why) when the file is unusable. */
function watchdogConfig(path: string | undefined): WatchConfig | null {
  if (path === undefined) return defaultConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    process.stderr.write(`blindspot-agent: cannot read --watchdog-config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return null;
  }
  const result = loadConfigText(text);
  if (!result.ok) {
    process.stderr.write(`blindspot-agent: --watchdog-config ${path} is invalid:\n${result.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return null;
  }
  return result.config;
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
  if (!base || !URL.canParse(base))
    return fail("set BLINDSPOT_WORKER_URL to the Worker's URL, e.g. https://blindspot.example.workers.dev", 2);
  if (!token) return fail("set BLINDSPOT_ADMIN_TOKEN to one of the tokens in the Worker's BLINDSPOT_ADMIN_TOKENS", 2);
  let res: HttpAnswer;
  try {
    res = await requestText(new URL(`/v1/admin/channels/${encodeURIComponent(id)}/test`, base), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: 60_000,
    });
  } catch (e: unknown) {
    return fail(`could not reach ${new URL(base).origin}: ${reasonOf(e)}`, 1);
  }
  const body = tryJson(res.text) as (TestFireAnswer & { error?: { message: string } }) | null;
  if (res.status < 200 || res.status >= 300 || body === null)
    return fail(body?.error?.message ?? `the Worker answered HTTP ${res.status}`, 1);
  for (const s of body.sent)
    process.stdout.write(
      `${id} (${body.type}) ${s.event}: ${s.outcome}${s.status === null ? '' : `, HTTP ${s.status}`}, ${s.latency_ms} ms${s.error ? ` — ${s.error}` : ''}\n`,
    );
  process.stdout.write(body.ok ? `${id}: the receiver took the test notification\n` : `${id}: the test notification was NOT delivered\n`);
  return body.ok ? 0 : 1;
}
