// npm start: local D1 migrations, the Worker under wrangler dev behind its front door on 127.0.0.1:8787
// (front-door.ts: it keeps the local stack up under a flood of readers), a demo agent, and a receiver
// that prints notifications. Ctrl-C stops every process it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { startEventReceiver } from './event-receiver.ts';
import { type FrontDoor, startFrontDoor } from './front-door.ts';
import { applyMigrations, type LocalWorker, startLocalWorker } from './local-worker.ts';

const PORT = 8787;
const RECEIVER_PORT = 8788;

function readDevVars(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync('.dev.vars', 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

async function main(): Promise<void> {
  if (!existsSync('.dev.vars')) {
    copyFileSync('.dev.vars.example', '.dev.vars');
    console.log('created .dev.vars from .dev.vars.example (local demo secrets)');
  }
  const vars = readDevVars();
  let worker: LocalWorker | undefined;
  let agent: ChildProcess | undefined;
  let receiver: Server | undefined;
  let door: FrontDoor | undefined;
  let sweep: NodeJS.Timeout | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(sweep);
    // The agent's goodbye (a heartbeat with stopping: true) must reach the Worker before it stops:
    // otherwise the next npm start pages the demo agent as silent for the time it was down.
    await stopAgent(agent);
    receiver?.close();
    await door?.close();
    await worker?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const wantsReceiver = vars.BLINDSPOT_WEBHOOK_URL?.includes(`:${RECEIVER_PORT}/`) === true && vars.BLINDSPOT_WEBHOOK_SECRET !== undefined;
  // Before anything starts: a port taken now would otherwise surface only after wrangler is up.
  const taken = await portsInUse(wantsReceiver ? [PORT, RECEIVER_PORT] : [PORT]);
  if (taken.length > 0) {
    console.error(
      `npm start needs 127.0.0.1:${taken.join(' and 127.0.0.1:')}, and ${taken.length > 1 ? 'they are' : 'it is'} in use: is another npm start running?\n` +
        `Stop it (Ctrl-C in its terminal) or whatever listens there (\`ss -ltnp | grep ${taken[0]}\` names it), then run npm start again.`,
    );
    process.exit(1);
  }
  try {
    console.log('applying D1 migrations to the local database ...');
    await applyMigrations({});
    if (wantsReceiver)
      receiver = await startEventReceiver(RECEIVER_PORT, vars.BLINDSPOT_WEBHOOK_SECRET as string, (line) => console.log(line));
    console.log('starting the Worker (wrangler dev, local workerd) ...');
    worker = await startLocalWorker({ port: await freePort(), echo: true });
    door = await startFrontDoor({ port: PORT, upstream: worker.url });
  } catch (e: unknown) {
    // Whatever started is stopped: a failed npm start leaves no wrangler or workerd behind.
    console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
    await shutdown(1);
    return;
  }
  agent = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', 'examples/demo-agent.yaml'], { stdio: 'inherit' });
  agent.on('exit', (code) => {
    if (!stopping) console.log(`demo agent exited (${code}); the Worker keeps running and will show it blind`);
  });
  // wrangler dev runs no cron: tick the one-minute sweep as Cloudflare would, so the watchdog's own
  // liveness, its safety net and pruning behave locally as they do deployed.
  // Straight to wrangler, not through the front door: the platform's cron waits behind no reader.
  const cron = worker.url;
  const url = door.url;
  sweep = setInterval(() => {
    fetch(`${cron}/__scheduled?cron=*+*+*+*+*`).catch((e: unknown) =>
      console.error('sweep tick failed:', e instanceof Error ? e.message : e),
    );
  }, 60_000);
  void fetch(`${cron}/__scheduled?cron=*+*+*+*+*`).catch(() => undefined);
  const admin = vars.BLINDSPOT_ADMIN_TOKENS
    ? `\n  Admin: ${url}/admin and \`npx blindspot\` (the demo token is in .dev.vars.example; BLINDSPOT_WORKER_URL=${url})\n  Gap report: ${url}/gaps (the browser asks for a password: the demo admin token)`
    : '';
  console.log(`\n  Blindspot status page: ${url}/${admin}\n  Demo agent "demo" sends a heartbeat every 5 s. Ctrl-C stops everything.\n`);
}

/** A port on 127.0.0.1 that was free a moment ago: wrangler dev's own, behind the front door. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Those of `ports` on 127.0.0.1 that something listens on now. */
async function portsInUse(ports: readonly number[]): Promise<number[]> {
  const inUse = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((resolve) => {
          const server = createServer();
          server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
          server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
        }),
    ),
  );
  return ports.filter((_, i) => inUse[i]);
}

/** SIGTERM, then up to 5 s for the agent to send its goodbye and exit. */
async function stopAgent(agent: ChildProcess | undefined): Promise<void> {
  if (agent === undefined || agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
  agent.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
  clearTimeout(timer);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
