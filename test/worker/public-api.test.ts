// The Statuspage-compatible public API, field by field, and its one rule: never operational on
// data nobody verified.
import { describe, expect, it } from 'vitest';
import { heardAgo } from './fixtures/durable.ts';
import { BASE, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';

async function api<T>(path: string): Promise<{ body: T; res: Response }> {
  const res = await send(new Request(`${BASE}/api/v2/${path}`, { headers: { origin: 'https://example.org' } }));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return { body: (await res.json()) as T, res };
}

interface Component {
  id: string;
  name: string;
  status: string;
  blindspot_status: string;
  group: boolean;
  group_id: string | null;
  verified_at: string | null;
  data_age_seconds: number | null;
  [key: string]: unknown;
}
interface Summary {
  page: Record<string, unknown>;
  status: { indicator: string; description: string; blindspot_indicator: string };
  components: Component[];
  incidents: unknown[];
  scheduled_maintenances: unknown[];
}

const metrics = (s: Summary) => s.components.find((c) => c.id === 'metrics') as Component;
const STATUSPAGE_STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'];

describe('the Statuspage v2 API', () => {
  it('has the Statuspage shapes, with unverified components shown as degraded, never operational', async () => {
    const { body, res } = await api<Summary>('summary.json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(Object.keys(body).sort()).toEqual(['components', 'incidents', 'page', 'scheduled_maintenances', 'status']);
    expect(body.page).toEqual({
      id: 'blindspot',
      name: 'Monitoring status',
      url: 'https://status.example.test',
      time_zone: 'Etc/UTC',
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      verified_at: null,
      data_age_seconds: null,
      blindspot_snapshot: null,
      blindspot_watchdog_stalled: false,
    });
    expect(body.status).toEqual({
      indicator: 'minor',
      description: 'Status Not Verified: monitoring data is missing or stale',
      blindspot_indicator: 'unverified',
    });
    expect(body.components.map((c) => c.id)).toEqual(['metrics', 'alerting']);
    for (const c of body.components) {
      expect(Object.keys(c).sort()).toEqual([
        'blindspot_status',
        'created_at',
        'data_age_seconds',
        'description',
        'group',
        'group_id',
        'id',
        'name',
        'only_show_if_degraded',
        'page_id',
        'position',
        'showcase',
        'start_date',
        'status',
        'updated_at',
        'verified_at',
      ]);
      expect(STATUSPAGE_STATUSES).toContain(c.status);
      expect(c).toMatchObject({
        status: 'degraded_performance',
        blindspot_status: 'unverified',
        group: false,
        group_id: null,
        page_id: 'blindspot',
        verified_at: null,
      });
    }
    expect(body.incidents).toEqual([]);
  });

  it('status.json and components.json carry the same page and parts of the summary', async () => {
    const status = await api<{ page: unknown; status: unknown }>('status.json');
    expect(Object.keys(status.body).sort()).toEqual(['page', 'status']);
    const components = await api<{ page: unknown; components: Component[] }>('components.json');
    expect(Object.keys(components.body).sort()).toEqual(['components', 'page']);
    expect(components.body.components.map((c) => c.id)).toEqual(['metrics', 'alerting']);
  });

  it('answers a CORS preflight for GET', async () => {
    const res = await send(
      new Request(`${BASE}/api/v2/summary.json`, {
        method: 'OPTIONS',
        headers: { origin: 'https://example.org', 'access-control-request-method': 'GET' },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/GET/);
  });

  it('a component whose heartbeat deadline passed is not operational; a fresh heartbeat makes it so, with when it was verified', async () => {
    const boot = 'b-golf';
    // The heartbeat a minute ago, and nothing since (its deadline was 10 s after it).
    await heardAgo('golf', 60_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, boot, sent_at }), { agent: 'golf' }),
    );
    const late = await api<Summary>('summary.json');
    expect(metrics(late.body)).toMatchObject({ status: 'degraded_performance', blindspot_status: 'unverified', data_age_seconds: 60 });

    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, boot, seq: 2 }), { agent: 'golf' });
    const fresh = await api<Summary>('summary.json');
    expect(metrics(fresh.body)).toMatchObject({ status: 'operational', blindspot_status: 'operational', data_age_seconds: 0 });
    expect(Date.parse(metrics(fresh.body).verified_at ?? '')).toBeGreaterThan(Date.now() - 5000);
    // Alerting has nothing feeding it: still unverified, so the page as a whole is not "all operational".
    expect(fresh.body.status.blindspot_indicator).toBe('unverified');
  });

  it('a blind pipeline is an outage', async () => {
    const stale = { signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 5000, unit: 's', error: null }] };
    for (const seq of [1, 2, 3]) await sendHeartbeat(heartbeatBody({ ...stale, seq, boot: 'b-hotel' }), { agent: 'hotel' });
    const { body } = await api<Summary>('summary.json');
    // hotel's pipeline is verified blind while golf's (above) is verified seeing: a partial outage.
    expect(metrics(body)).toMatchObject({ status: 'partial_outage', blindspot_status: 'partial_outage' });
    expect(body.status).toMatchObject({ indicator: 'major', description: 'Partial System Outage' });
  });
});
