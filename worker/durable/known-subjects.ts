// Every subject (agent or Alertmanager source) whose Durable Object the minute sweep must visit and
// the admin API must tell of a pause: those D1 lists, those with a public copy in the Watchdog
// shards, the agents added through the admin API (the credentials store), and those the Worker's
// own settings name (BLINDSPOT_AGENT_SECRETS, the configuration's Alertmanager sources), the last
// three not depending on D1. Any may lack one (D1 refused an agent's first rows; a copy is lost with
// the write in flight, or pruned after 30 quiet days; agents in the setting and Alertmanager sources
// hold no key in the store) or be unreadable: what can be read is used, so a D1 outage (or one that
// hangs: it is waited for at most d1Wait) leaves the sweep's safety net and the pauses working. Only
// when none can be read does it throw.
import { parseAgentSecrets } from '../config.ts';
import { alertSourceSubject } from '../core/subject.ts';
import type { Env } from '../env.ts';
import { listAgents } from '../store/agents.ts';
import { createDb } from '../store/db.ts';
import { watchConfig } from '../watch-config.ts';
import { d1Wait, within } from './clock.ts';
import { credentials } from './credentials.ts';
import { readAllCopyIds } from './public-shards.ts';

export async function knownSubjects(env: Env): Promise<string[]> {
  const sources = [
    { what: 'the agents D1 lists', read: within(listAgents(createDb(env.DB)), d1Wait.ms, 'D1').then((rows) => rows.map((r) => r.id)) },
    { what: 'the public copies', read: readAllCopyIds(env) },
    { what: 'the credentials store', read: credentials(env).managedAgentIds() },
    { what: "the Worker's settings", read: Promise.resolve().then(() => namedInSettings(env)) },
  ];
  const read = await Promise.allSettled(sources.map((s) => s.read));
  const ids = new Set<string>();
  const failures: string[] = [];
  read.forEach((r, i) => {
    const what = sources[i]?.what ?? '';
    if (r.status === 'fulfilled') for (const id of r.value) ids.add(id);
    else failures.push(`${what}: ${String(r.reason)}`);
  });
  if (failures.length === sources.length) throw new Error(`no list of agents could be read: ${failures.join('; ')}`);
  for (const failure of failures) console.error(`the known agents are taken from the other lists; this one could not be read: ${failure}`);
  return [...ids].sort();
}

/** The agents BLINDSPOT_AGENT_SECRETS names and the configuration's Alertmanager sources: heard or not, each has an object to watch. */
function namedInSettings(env: Env): string[] {
  return [
    ...parseAgentSecrets(env.BLINDSPOT_AGENT_SECRETS).keys(),
    ...watchConfig(env).config.alertSources.map((s) => alertSourceSubject(s.id)),
  ];
}
