import { Hono } from 'hono';
import { renderStatusPage } from '../../ui/render.ts';
import type { AppEnv } from '../app-env.ts';
import type { LiveState } from '../core/agent-state.ts';
import { overallState, viewAgent, type AgentView } from '../core/agent-view.ts';
import { parseAgentSecrets } from '../config.ts';
import type { Env } from '../env.ts';
import { listAgents } from '../store/agents.ts';
import { createDb } from '../store/db.ts';

export const statusPage = new Hono<AppEnv>();

statusPage.get('/', async (c) => {
  const agents = await collectAgentViews(c.env);
  const now = Date.now();
  const html = renderStatusPage({ title: c.env.BLINDSPOT_PAGE_TITLE ?? 'Monitoring status', now, overall: overallState(agents), agents });
  return c.html(html, 200, { 'cache-control': 'no-cache' });
});

/** Configured agents and every agent D1 remembers, each read live from its Durable Object. */
async function collectAgentViews(env: Env): Promise<AgentView[]> {
  const subjects = await collectLives(env);
  const now = Date.now();
  return subjects.map(({ id, live }) => {
    if (live === undefined) return { agentId: id, state: 'unverified', verifiedAt: null, deadlineAt: null, blindSince: null, troubled: [] };
    return viewAgent(id, live, now);
  });
}

/** Every agent's live state, sorted by id: null if never heard from, undefined if it could not be read. */
export async function collectLives(env: Env): Promise<{ id: string; live: LiveState | null | undefined }[]> {
  const ids = new Set(parseAgentSecrets(env.BLINDSPOT_AGENT_SECRETS).keys());
  try {
    for (const agent of await listAgents(createDb(env.DB))) ids.add(agent.id);
  } catch (e: unknown) {
    // The page must load without D1: configured agents are still shown from their live state.
    console.error('status page: D1 unavailable, listing configured agents only:', e);
  }
  const sorted = [...ids].sort();
  const lives = await Promise.all(sorted.map((id) => readLive(env, id)));
  return sorted.map((id, i) => ({ id, live: lives[i] }));
}

/** undefined when the live state could not be read (shown as unverified, never as fine). */
async function readLive(env: Env, id: string): Promise<LiveState | null | undefined> {
  try {
    return await env.AGENT.get(env.AGENT.idFromName(id)).getStatus();
  } catch (e: unknown) {
    console.error(`status page: could not read agent ${id}:`, e);
    return undefined;
  }
}
