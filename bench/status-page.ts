// Benchmark: the status page's weight and cost. Real parts: the Worker under wrangler dev (workerd +
// local D1) on 127.0.0.1, with 8 components in 3 groups, 90 days of day rows, 3 incidents with
// updates and a maintenance. Reported:
//  - bytes of everything a first visit transfers (the page is one document: no script, font, image
//    or stylesheet requests), raw and compressed with gzip and brotli as an edge would serve it;
//  - server time per request for the page, as a ratio to a trivial route (the JSON 404) measured in
//    the same run, sequentially, after a warm-up. Bounded: ROUNDS requests per route.
//   npx tsx bench/status-page.ts [rounds]
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { generateSecret, sign } from '../protocol/signature.ts';
import { startTestWorker } from '../test/support/e2e-worker.ts';
import { percentile } from '../test/support/fleet.ts';
import { d1Query } from '../test/support/local-d1.ts';
import { machine, record } from './record.ts';

const ROUNDS = Number(process.argv[2] ?? 200);
const BUDGET = 30 * 1024;
const secret = generateSecret();
const token = 'bench-admin-token-0123456789abcdef0123456789';
const DAY = 86_400_000;

const components = [
  ...['API', 'Website', 'Checkout'].map((n) => ({ id: n.toLowerCase(), name: n, group: 'Services' })),
  ...['Metrics', 'Logs', 'Traces'].map((n) => ({ id: n.toLowerCase(), name: `${n} pipeline`, group: 'Observability' })),
  { id: 'alerts', name: 'Alert delivery', group: 'Paging' },
  { id: 'status', name: 'This status page' },
];
const config = {
  components,
  defaults: { component: 'status' },
  monitors: components.map((c) => ({ id: `${c.id}-fresh`, signal: `${c.id}.freshness`, kind: 'freshness', component: c.id })),
};

async function timed(url: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const worker = await startTestWorker('bench-page', {
    BLINDSPOT_CONFIG: JSON.stringify(config),
    BLINDSPOT_AGENT_SECRETS: JSON.stringify({ bench: [secret] }),
    BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
      bench: { sha256: createHash('sha256').update(token).digest('hex'), scopes: ['read', 'write'] },
    }),
  });
  try {
    const body = JSON.stringify({
      v: 1,
      seq: 1,
      boot: 'bench',
      sent_at: new Date().toISOString(),
      interval_s: 600,
      signals: components.map((c) => ({ name: `${c.id}.freshness`, kind: 'freshness', value: 2, error: null })),
    });
    const ts = Math.floor(Date.now() / 1000);
    const hb = await fetch(`${worker.url}/v1/agents/bench/heartbeats`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_bench',
        'webhook-timestamp': String(ts),
        'webhook-signature': await sign([secret], 'msg_bench', ts, body),
      },
      body,
    });
    if (hb.status !== 202) throw new Error(`heartbeat: HTTP ${hb.status}`);
    // 90 days of history, with a bad day here and there, so every bar has a tooltip worth reading.
    const today = Math.floor(Date.now() / DAY) * DAY;
    const rows: string[] = [];
    for (let d = 1; d < 90; d++) {
      const monitors = Object.fromEntries(
        components.map((c) => [`${c.id}-fresh`, d % 17 === 0 ? [82_800, 0, 3600, 0, 0] : [86_400, 0, 0, 0, 0]]),
      );
      rows.push(`('bench',${today - d * DAY},'${JSON.stringify(monitors)}')`);
    }
    d1Query(worker.persistTo, `INSERT INTO agent_days (agent_id, day, monitors) VALUES ${rows.join(',')}`);
    const admin = (path: string, payload: unknown) =>
      fetch(`${worker.url}/v1/admin${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      }).then((r) => r.json() as Promise<{ incident: { id: string } }>);
    for (let i = 0; i < 3; i++) {
      const { incident } = await admin('/incidents', {
        name: `Incident ${i}: elevated errors on checkout`,
        body: 'We are investigating elevated error rates.',
        components: ['checkout'],
      });
      await admin(`/incidents/${incident.id}/updates`, { status: 'identified', body: 'A bad deploy; rolling back.' });
      if (i > 0) await admin(`/incidents/${incident.id}/resolve`, {});
    }
    await admin('/maintenances', {
      name: 'Logs cluster upgrade',
      components: ['logs'],
      scheduled_for: new Date(Date.now() + DAY).toISOString(),
      scheduled_until: new Date(Date.now() + DAY + 7_200_000).toISOString(),
    });

    const page = await fetch(`${worker.url}/`, { headers: { 'accept-encoding': 'gzip, br' } });
    const served = Buffer.from(await page.arrayBuffer());
    const html = served.toString('utf8');
    const bytes = {
      raw: Buffer.byteLength(html),
      gzip: gzipSync(html, { level: 9 }).length,
      brotli: brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      served_content_encoding: page.headers.get('content-encoding'),
      other_requests: (html.match(/<(script|img|link rel="stylesheet"|iframe)\b/g) ?? []).length,
    };
    // Warm up both routes, then measure them in the same run.
    await timed(`${worker.url}/`);
    await timed(`${worker.url}/no-such-route`);
    const pageTimes = await timed(`${worker.url}/`);
    const noopTimes = await timed(`${worker.url}/no-such-route`);
    const ms = (xs: number[]) => ({ p50: Number(percentile(xs, 50).toFixed(2)), p99: Number(percentile(xs, 99).toFixed(2)) });
    const result = {
      benchmark: 'status-page',
      date: new Date().toISOString(),
      machine: machine(),
      setup: {
        components: components.length,
        groups: 3,
        days_of_history: 90,
        incidents: 3,
        maintenances: 1,
        rounds: ROUNDS,
        server: 'wrangler dev (workerd, local D1) on 127.0.0.1',
      },
      bytes,
      latency_ms: { page: ms(pageTimes), trivial_route: ms(noopTimes) },
      ratio: { page_to_trivial_p50: Number((percentile(pageTimes, 50) / percentile(noopTimes, 50)).toFixed(2)) },
      target: 'everything a first visit transfers ≤ 30 KB compressed',
      met: bytes.gzip <= BUDGET && bytes.other_requests === 0,
    };
    record('status-page', result);
    if (!result.met) process.exitCode = 1;
  } finally {
    await worker.stop();
  }
}

await main();
