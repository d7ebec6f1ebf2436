// The postmortem gap report: /api/v1/gaps (JSON, CSV or Markdown) and /gaps (a page with a timeline,
// readable without JavaScript). Open to anyone when gap_report.public is set; otherwise an admin
// token with the "read" scope, as a bearer token or as the password a browser prompt sends.
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { renderGapPage } from '../../ui/render.ts';
import { renderCsv } from '../../ui/gap-report/csv.ts';
import { renderMarkdown } from '../../ui/gap-report/markdown.ts';
import type { AppEnv } from '../app-env.ts';
import { gapReport, LOOKBACK_MS } from '../core/gap-report.ts';
import { engineMaintenance } from '../core/notices.ts';
import type { Env } from '../env.ts';
import { ApiError, d1Unavailable } from '../errors.ts';
import { verifyAdminToken } from '../middleware/verify-admin-token.ts';
import { createDb } from '../store/db.ts';
import { readGapData } from '../store/gaps.ts';
import { boundedReads } from '../middleware/bounded-reads.ts';
import { watchConfig } from '../watch-config.ts';
import { encodeCursor, type GapFormat, type GapQuery, parseGapQuery } from './gap-query.ts';
import { type GapReportShape, gapReportShape, noticesOf } from './gap-shapes.ts';
import { gapPageHeaders } from './status-page.ts';

export const gaps = new Hono<AppEnv>();

const privateAccess = verifyAdminToken({ basic: true, realm: 'Blindspot gap report' });

const gapAccess = createMiddleware<AppEnv>(async function gapAccess(c, next) {
  if (watchConfig(c.env).config.gapReport.public) return next();
  return privateAccess(c, next);
});

gaps.use('/api/v1/gaps', gapAccess, boundedReads);
gaps.use('/gaps', gapAccess, boundedReads);

async function buildReport(env: Env, query: GapQuery, now: number): Promise<GapReportShape> {
  const base = watchConfig(env).config;
  const read = await readGapData(
    createDb(env.DB),
    { start: Math.min(query.from, query.to - LOOKBACK_MS), end: query.to },
    query.filters.agents,
  );
  if (!read.ok)
    throw new ApiError(
      422,
      'range_too_busy',
      `more than ${read.limit} ${read.what} fall in this range (with the 3 days before it that burn rates need); ask for a shorter range or filter by agent`,
    );
  const { data } = read;
  const config = { ...base, maintenance: [...base.maintenance, ...engineMaintenance(data.maintenances)] };
  const report = gapReport({
    config,
    range: { start: query.from, end: query.to },
    objective: query.objective,
    filters: query.filters,
    windows: data.windows,
    backfill: data.backfill,
    agents: data.agents,
    feeds: data.feeds,
  });
  const after = query.after;
  const rest =
    after === null
      ? report.rows
      : report.rows.filter((r) => r.startedAt > after.startedAt || (r.startedAt === after.startedAt && r.id > after.id));
  const page = rest.slice(0, query.limit);
  const last = page[page.length - 1];
  return gapReportShape({
    publicView: base.gapReport.public,
    report,
    page,
    total: report.rows.length,
    nextCursor: rest.length > page.length && last !== undefined ? encodeCursor(last) : null,
    range: { from: query.from, to: query.to, clamped: query.clamped },
    zone: query.zone,
    filters: {
      agent: [...query.filters.agents],
      component: [...query.filters.components],
      monitor: [...query.filters.monitors],
      cause: [...query.filters.causes],
    },
    objective: query.objective,
    limit: query.limit,
    maintenances: noticesOf(data.maintenances, base.maintenance, { from: query.from, to: query.to }),
    // Read from 3 days before the range for burn rates; listed only when they touch the range itself.
    incidents: data.incidents.filter((i) => i.started_at < query.to && (i.resolved_at === null || i.resolved_at > query.from)),
    now,
  });
}

const CONTENT_TYPES: Record<GapFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  md: 'text/markdown; charset=utf-8',
};

gaps.get('/api/v1/gaps', async (c) => {
  const now = Date.now();
  const url = new URL(c.req.url);
  const query = parseGapQuery(url.searchParams, now, watchConfig(c.env).config.gapReport.objective);
  const shape = await buildReport(c.env, query, now);
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[query.format], 'cache-control': 'private, no-store' };
  if (shape.page.next_cursor !== null) {
    const next = new URL(url);
    next.searchParams.set('cursor', shape.page.next_cursor);
    headers.link = `<${next.pathname}${next.search}>; rel="next"`;
  }
  if (query.format === 'csv') headers['content-disposition'] = `attachment; filename="blindspot-gaps-${shape.range.from.slice(0, 10)}.csv"`;
  const body = query.format === 'json' ? JSON.stringify(shape) : query.format === 'csv' ? renderCsv(shape) : renderMarkdown(shape);
  return c.body(body, 200, headers);
});

gaps.get('/gaps', async (c) => {
  const now = Date.now();
  const url = new URL(c.req.url);
  const config = watchConfig(c.env).config;
  const headers = { ...(await gapPageHeaders()), 'cache-control': 'private, no-store' };
  let query: GapQuery;
  try {
    query = parseGapQuery(url.searchParams, now, config.gapReport.objective);
  } catch (e: unknown) {
    if (!(e instanceof ApiError)) throw e;
    return c.html(
      renderGapPage({ report: null, error: e.message, params: url.searchParams, components: config.components }),
      e.status === 400 ? 400 : 422,
      headers,
    );
  }
  try {
    const report = await buildReport(c.env, query, now);
    return c.html(renderGapPage({ report, error: null, params: url.searchParams, components: config.components }), 200, headers);
  } catch (e: unknown) {
    // A D1 outage is said on the page (503), never shown as a report without gaps.
    const refused = e instanceof ApiError ? e : d1Unavailable(e);
    if (refused === null) throw e;
    const status = refused.status === 503 ? 503 : 422;
    return c.html(
      renderGapPage({ report: null, error: refused.message, params: url.searchParams, components: config.components }),
      status,
      { ...headers, ...refused.headers },
    );
  }
});
