// Every subject (agent or Alertmanager source) whose Durable Object the minute sweep must visit and
// the admin API must tell of a pause: those D1 lists, and those with a public copy in the Watchdog
// shards, which do not depend on D1. Either may lack one (D1 refused an agent's first rows; a copy
// is pruned after 30 quiet days) or be unreadable: what can be read is used, so a D1 outage (or one
// that hangs: it is waited for at most d1Wait) leaves the sweep's safety net and the pauses working.
// Only when neither can be read does it throw.
import type { Env } from '../env.ts';
import { listAgents } from '../store/agents.ts';
import { createDb } from '../store/db.ts';
import { d1Wait, within } from './clock.ts';
import { readAllCopyIds } from './public-shards.ts';

export async function knownSubjects(env: Env): Promise<string[]> {
  const [fromD1, fromCopies] = await Promise.allSettled([
    within(listAgents(createDb(env.DB)), d1Wait.ms, 'D1').then((rows) => rows.map((r) => r.id)),
    readAllCopyIds(env),
  ]);
  if (fromD1.status === 'rejected' && fromCopies.status === 'rejected')
    throw new Error(`neither D1 nor the public copies could be read: ${String(fromD1.reason)}; ${String(fromCopies.reason)}`);
  if (fromD1.status === 'rejected') console.error('the agents D1 lists could not be read; going by the public copies:', fromD1.reason);
  if (fromCopies.status === 'rejected')
    console.error('the public copies could not be read; going by the agents D1 lists:', fromCopies.reason);
  const ids = new Set([
    ...(fromD1.status === 'fulfilled' ? fromD1.value : []),
    ...(fromCopies.status === 'fulfilled' ? fromCopies.value : []),
  ]);
  return [...ids].sort();
}
