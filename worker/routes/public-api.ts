// The public status API in Atlassian Statuspage v2 shapes (status.json, components.json, summary.json),
// so existing widgets, bots and clients read it unchanged. Statuspage has no word for "we do not
// know": an unverified component is sent as degraded_performance — never as operational — and
// `blindspot_status: "unverified"` with `verified_at` and `data_age_seconds` says why.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.ts';
import { type ComponentStatus, type ComponentView, indicatorOf, viewComponents } from '../core/component-view.ts';
import type { Env } from '../env.ts';
import { watchConfig } from '../watch-config.ts';
import { collectLives } from './status-page.ts';

export const publicApi = new Hono<AppEnv>();

publicApi.use('/api/v2/*', cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86_400 }));

const PAGE_ID = 'blindspot';

/** Statuspage's component statuses: ours, with unverified shown as degraded, never as fine. */
const STATUSPAGE_STATUS: Record<ComponentStatus, string> = {
  operational: 'operational',
  degraded_performance: 'degraded_performance',
  partial_outage: 'partial_outage',
  major_outage: 'major_outage',
  under_maintenance: 'under_maintenance',
  unverified: 'degraded_performance',
};

const DESCRIPTION = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
  unverified: 'Status Not Verified: monitoring data is missing or stale',
} as const;

const iso = (ms: number) => new Date(ms).toISOString();
const ageS = (now: number, at: number | null) => (at === null ? null : Math.max(0, Math.round((now - at) / 1000)));
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'group';

interface Snapshot {
  now: number;
  views: ComponentView[];
  firstSeen: Map<string, number>;
  title: string;
  url: string;
}

async function snapshot(env: Env, requestUrl: string): Promise<Snapshot> {
  const { config } = watchConfig(env);
  const now = Date.now();
  const subjects = await collectLives(env);
  // The per-agent deadline already greys out what no alarm or sweep has judged since it passed.
  const views = viewComponents(config, subjects, now, false);
  const seen = new Map(subjects.map((s) => [s.id, s.live?.firstSeenAt ?? now]));
  const firstSeen = new Map(views.filter((v) => v.contributions.length > 0).map((v) => [v.id, Math.min(...v.contributions.map((c) => seen.get(c.agentId) ?? now))]));
  return {
    now,
    views,
    firstSeen,
    title: env.BLINDSPOT_PAGE_TITLE ?? 'Monitoring status',
    url: config.notifications.publicUrl ?? new URL(requestUrl).origin,
  };
}

function page(s: Snapshot) {
  const verified = s.views.map((v) => v.verifiedAt).filter((t): t is number => t !== null);
  const verifiedAt = verified.length === s.views.length && verified.length > 0 ? Math.min(...verified) : null;
  return { id: PAGE_ID, name: s.title, url: s.url, time_zone: 'Etc/UTC', updated_at: iso(s.now), verified_at: verifiedAt === null ? null : iso(verifiedAt), data_age_seconds: ageS(s.now, verifiedAt) };
}

function status(s: Snapshot) {
  const indicator = indicatorOf(s.views.map((v) => v.status));
  // Statuspage's indicator has no "unknown" either: not knowing is at least minor.
  return { indicator: indicator === 'unverified' ? 'minor' : indicator, description: DESCRIPTION[indicator], blindspot_indicator: indicator };
}

function components(s: Snapshot) {
  const groups = new Map<string, ComponentView[]>();
  for (const v of s.views) if (v.group !== null) groups.set(v.group, [...(groups.get(v.group) ?? []), v]);
  const groupId = (name: string) => `group-${slug(name)}`;
  const common = (at: number | null, created: number | undefined, position: number) => ({
    created_at: iso(created ?? at ?? s.now),
    updated_at: iso(at ?? s.now),
    position,
    showcase: false,
    start_date: null,
    page_id: PAGE_ID,
    only_show_if_degraded: false,
    verified_at: at === null ? null : iso(at),
    data_age_seconds: ageS(s.now, at),
  });
  const out: Record<string, unknown>[] = [];
  let position = 1;
  for (const [name, members] of groups) {
    const worst = worstStatus(members.map((m) => m.status));
    const ats = members.map((m) => m.verifiedAt);
    const at = ats.every((t) => t !== null) ? Math.min(...(ats as number[])) : null;
    out.push({ id: groupId(name), name, status: STATUSPAGE_STATUS[worst], blindspot_status: worst, description: null, group_id: null, group: true, components: members.map((m) => m.id), ...common(at, undefined, position++) });
  }
  for (const v of s.views) {
    out.push({ id: v.id, name: v.name, status: STATUSPAGE_STATUS[v.status], blindspot_status: v.status, description: v.description, group_id: v.group === null ? null : groupId(v.group), group: false, ...common(v.verifiedAt, s.firstSeen.get(v.id), position++) });
  }
  return out;
}

const SEVERITY: readonly ComponentStatus[] = ['operational', 'under_maintenance', 'degraded_performance', 'unverified', 'partial_outage', 'major_outage'];
const worstStatus = (statuses: readonly ComponentStatus[]): ComponentStatus => statuses.reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'operational');

const headers = { 'cache-control': 'public, max-age=10' };

publicApi.get('/api/v2/status.json', async (c) => {
  const s = await snapshot(c.env, c.req.url);
  return c.json({ page: page(s), status: status(s) }, 200, headers);
});

publicApi.get('/api/v2/components.json', async (c) => {
  const s = await snapshot(c.env, c.req.url);
  return c.json({ page: page(s), components: components(s) }, 200, headers);
});

publicApi.get('/api/v2/summary.json', async (c) => {
  const s = await snapshot(c.env, c.req.url);
  // Incidents and scheduled maintenances are not kept yet: empty lists, not made-up ones.
  return c.json({ page: page(s), status: status(s), components: components(s), incidents: [], scheduled_maintenances: [] }, 200, headers);
});
