// Property-based fuzz (fast-check) of every input path, inside workerd with a real local D1: 10 000
// hostile requests in all (heartbeats and backfills signed correctly around hostile bodies, hostile
// signature headers, admin requests, Alertmanager payloads). Each must get a 4xx with a JSON error,
// never a 5xx, and a refused request must change nothing: neither a D1 row nor a Durable Object.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sign } from '../../protocol/signature.ts';
import { TEST_ALERTMANAGER_TOKENS } from '../worker/fixtures/alertmanager.ts';
import { ADMIN_TOKEN, READ_TOKEN } from '../worker/fixtures/channels.ts';
import { agentStub } from '../worker/fixtures/durable.ts';
import { BASE, heartbeatBody } from '../worker/fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from '../worker/fixtures/secrets.ts';
import worker from '../../worker/index.ts';

// Every table a request could write, as queries. Left out is what alarms write on time alone: the
// rollups (when a 5-minute bucket ends) and delivery attempts (retries of a page an accepted
// heartbeat queued); an outbox row is compared by what it is, not by its retry bookkeeping.
const TABLES = [
  'agents',
  'windows',
  'agent_events',
  'backfilled_heartbeats',
  'alert_evidence',
  'incidents',
  'incident_updates',
  'maintenances',
].map((t) => `SELECT * FROM ${t}`);
TABLES.push('SELECT id, event_type, window_id, created_at FROM outbox ORDER BY id');

/** What a request could change: those tables' rows, and what the Durable Objects it reaches took. */
async function fingerprint(): Promise<string> {
  const tables = await env.DB.batch(TABLES.map((q) => env.DB.prepare(q)));
  const objects = await Promise.all(
    ['alpha', 'bravo', 'alertmanager:prod'].map(async (id) => {
      const live = await agentStub(id).getStatus();
      return live === null
        ? null
        : {
            state: live.state,
            boot: live.boot,
            seq: live.seq,
            lastHeartbeatAt: live.lastHeartbeatAt,
            deadlineAt: live.deadlineAt,
            silence: live.silence?.window ?? null,
            monitors: Object.keys(live.monitors),
          };
    }),
  );
  return JSON.stringify([tables.map((r) => r.results), objects]);
}

interface Verdict {
  status: number;
  body: string;
}

/**
 * One request through the Worker's own fetch handler, in workerd, with its real bindings. (Called
 * directly: through exports.default.fetch each call here costs more than the last, and 10 000 of
 * them would take the run's whole budget.) A request left unanswered for 10 s is a failure too.
 */
async function call(request: Request): Promise<Verdict> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within 10 s: ${request.method} ${request.url}`)), 10_000)),
  );
  const ctx = createExecutionContext();
  try {
    const res = await Promise.race([worker.fetch!(request as never, env as never, ctx), hang]);
    const body = await Promise.race([res.text(), hang]);
    await waitOnExecutionContext(ctx);
    return { status: res.status, body };
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal: 4xx with a JSON error that says what is wrong. */
function refused(v: Verdict, what: string): boolean {
  if (v.status < 400 || v.status >= 500) throw new Error(`${what}: HTTP ${v.status} ${v.body.slice(0, 300)}`);
  const json = JSON.parse(v.body) as { error?: { code?: unknown; message?: unknown } };
  if (typeof json.error?.code !== 'string' || typeof json.error.message !== 'string' || json.error.message.length === 0)
    throw new Error(`${what}: no JSON error: ${v.body.slice(0, 300)}`);
  return true;
}

const alphaSecrets = TEST_AGENT_SECRETS.alpha;
/** A failure ends the run at once with its counterexample: shrinking 10 000 async requests has no bound. */
const RUN = (numRuns: number) => ({ numRuns, endOnFailure: true });
let n = 0;

async function signed(path: 'heartbeats' | 'backfill', body: string, agent = 'alpha'): Promise<Request> {
  const id = `msg_fuzz_${++n}`;
  const ts = Math.floor(Date.now() / 1000);
  return new Request(`${BASE}/v1/agents/${agent}/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': await sign(alphaSecrets, id, ts, body),
    },
    body,
  });
}

// Hostile values: wrong types, out of range, huge, odd text, prototype keys, deep nesting.
const hostileScalar = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    0,
    -0,
    1e308,
    -1e308,
    2 ** 53 + 1,
    0.5,
    '',
    ' ',
    '\u0000',
    '\ud800',
    '../../etc',
    '<script>',
    '=1+1',
    'NaN',
    '1e999',
    '__proto__',
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'v', 'seq')), tie('value'), {
      maxKeys: 4,
    }),
  ),
})).value;

/** A valid heartbeat with one to three fields replaced by hostile values (or removed), or extra ones added. */
const mutatedHeartbeat = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.constantFrom('v', 'seq', 'boot', 'sent_at', 'interval_s', 'grace_s', 'signals', 'stopping', 'labels'),
        fc.option(hostileValue, { nil: undefined }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.array(
      fc.record({
        name: hostileScalar,
        kind: fc.oneof(hostileScalar, fc.constantFrom('freshness', 'ratio', 'count', 'age')),
        value: hostileScalar,
        error: hostileScalar,
      }),
      { maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(([fields, signals, hostileSignals]) => {
    const body: Record<string, unknown> = heartbeatBody({ seq: 1, boot: 'fuzz' });
    if (hostileSignals) body.signals = signals;
    for (const [key, value] of fields) {
      if (value === undefined) delete body[key];
      else body[key] = value;
    }
    return JSON.stringify(body);
  });

const rawBody = fc.oneof(
  fc.json(),
  fc.string({ maxLength: 200 }),
  hostileValue.map((v) => JSON.stringify(v) ?? 'undefined'),
);

describe('10 000 hostile requests, fast-check', () => {
  it('signed heartbeats with hostile bodies (4000): 4xx with a JSON error, and no state change', async () => {
    // One accepted heartbeat first, so the fuzz meets a live agent and its Durable Object.
    // An hour's interval: its deadline does not pass while the fuzz runs.
    const ok = await call(
      await signed('heartbeats', JSON.stringify(heartbeatBody({ seq: 1_000_000_000, boot: 'fuzz-live', interval_s: 600 }))),
    );
    expect(ok.status).toBe(202);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedHeartbeat, rawBody), async (body) => {
        const before = await fingerprint();
        const v = await call(await signed('heartbeats', body));
        // A mutation may be a valid heartbeat after all (a higher seq, say): it is judged as one. It
        // may have set a short interval or a bad signal, whose deadline or hold would change state
        // on time alone while later inputs run: a healthy heartbeat on a new boot puts that back.
        if (v.status === 202) {
          accepted++;
          const reset = await call(
            await signed('heartbeats', JSON.stringify(heartbeatBody({ seq: 1, boot: `fuzz-reset-${accepted}`, interval_s: 600 }))),
          );
          expect(reset.status).toBe(202);
          return;
        }
        refused(v, body);
        expect(JSON.parse(await fingerprint()), body).toEqual(JSON.parse(before));
      }),
      RUN(4000),
    );
    console.log(`fuzz: ${accepted} of 4000 mutated heartbeats happened to be valid and were taken`);
    // A healthy heartbeat last, so nothing the accepted ones started is still pending when the next test begins.
    expect(
      (await call(await signed('heartbeats', JSON.stringify(heartbeatBody({ seq: 2 ** 40, boot: 'fuzz-live-2', interval_s: 600 })))))
        .status,
    ).toBe(202);
  });

  it('backfills with hostile bodies (1000): refused whole, nothing stored', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          rawBody,
          fc
            .array(
              fc.oneof(
                mutatedHeartbeat.map((s) => JSON.parse(s) as unknown),
                hostileValue,
              ),
              { maxLength: 5 },
            )
            .map((heartbeats) => JSON.stringify({ v: 1, heartbeats })),
        ),
        async (body) => {
          const before = await fingerprint();
          const v = await call(await signed('backfill', body));
          // A batch of mutations that left every heartbeat valid is a valid backfill.
          if (v.status === 202) {
            accepted++;
            return;
          }
          refused(v, body);
          expect(JSON.parse(await fingerprint()), body).toEqual(JSON.parse(before));
        },
      ),
      RUN(1000),
    );
    console.log(`fuzz: ${accepted} of 1000 backfills happened to be valid and were taken`);
  });

  it('hostile agent ids, webhook headers and methods (1500): refused before the body is trusted', async () => {
    const before = await fingerprint();
    const body = JSON.stringify(heartbeatBody({ seq: 2_000_000_000, boot: 'fuzz-live' }));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          agent: fc.oneof(
            fc.constantFrom('alpha', 'ALPHA', 'nobody', '-x', '..', '%2e%2e', 'a'.repeat(64)),
            fc.string({ maxLength: 70 }).map(encodeURIComponent),
          ),
          id: fc.option(fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom('', ' ', 'x'.repeat(200))), { nil: undefined }),
          timestamp: fc.option(
            fc.oneof(
              fc.integer().map(String),
              fc.constantFrom(
                '',
                '-1',
                '1e10',
                '0x10',
                String(Math.floor(Date.now() / 1000) - 301),
                String(Math.floor(Date.now() / 1000) + 301),
              ),
              fc.string({ maxLength: 14 }),
            ),
            { nil: undefined },
          ),
          signature: fc.option(
            fc.oneof(
              fc.string({ maxLength: 100 }),
              fc.base64String({ maxLength: 60 }).map((s) => `v1,${s}`),
              fc.constantFrom('v1,', 'v2,abc', 'v1,AAAA v1,BBBB'),
            ),
            { nil: undefined },
          ),
          method: fc.constantFrom('POST', 'POST', 'PUT', 'GET', 'DELETE', 'PATCH'),
          contentType: fc.constantFrom('application/json', 'text/plain', '', 'application/json; charset=utf-16'),
        }),
        async (r) => {
          const headers: Record<string, string> = {};
          if (r.contentType !== '') headers['content-type'] = r.contentType;
          if (r.id !== undefined) headers['webhook-id'] = r.id.replace(/[\r\n]/g, '');
          if (r.timestamp !== undefined) headers['webhook-timestamp'] = r.timestamp.replace(/[\r\n]/g, '');
          if (r.signature !== undefined) headers['webhook-signature'] = r.signature.replace(/[\r\n]/g, '');
          let request: Request;
          try {
            request = new Request(`${BASE}/v1/agents/${r.agent}/heartbeats`, {
              method: r.method,
              headers,
              body: r.method === 'GET' ? undefined : body,
            });
          } catch {
            return; // Not an HTTP request a client could send (a header value fetch refuses).
          }
          refused(await call(request), JSON.stringify(r));
        },
      ),
      RUN(1500),
    );
    expect(await fingerprint()).toBe(before);
  });

  it('admin requests with hostile bodies, paths and credentials (2000): refused, nothing written', async () => {
    const before = await fingerprint();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('POST', 'PATCH', 'DELETE', 'PUT', 'GET'),
          path: fc.oneof(
            fc.constantFrom(
              '/incidents',
              '/maintenances',
              '/silences',
              '/incidents/inc_nope/updates',
              '/incidents/inc_nope/resolve',
              '/incidents/inc_nope',
              '/maintenances/mnt_nope/start',
              '/maintenances/mnt_nope/complete',
              '/silences/sil_nope',
              '/channels/nope/test',
              '/channels/nope/enable',
              '/notifications/nope/retry',
            ),
            fc.string({ maxLength: 30 }).map((s) => `/incidents/${encodeURIComponent(s)}`),
          ),
          auth: fc.constantFrom(
            `Bearer ${ADMIN_TOKEN}`,
            `Bearer ${ADMIN_TOKEN}`,
            `Bearer ${READ_TOKEN}`,
            'Bearer nope',
            'Basic Og==',
            '',
            `bearer ${ADMIN_TOKEN}x`,
          ),
          body: fc.oneof(
            rawBody,
            fc
              .record(
                {
                  name: hostileScalar,
                  body: hostileScalar,
                  status: hostileScalar,
                  components: fc.oneof(hostileValue, fc.array(hostileScalar)),
                  scheduled_for: hostileScalar,
                  scheduled_until: hostileScalar,
                  ends_at: hostileScalar,
                  matchers: hostileValue,
                },
                { requiredKeys: [] },
              )
              .map((o) => JSON.stringify(o)),
          ),
        }),
        async (r) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (r.auth !== '') headers.authorization = r.auth;
          const request = new Request(`${BASE}/v1/admin${r.path}`, {
            method: r.method,
            headers,
            body: r.method === 'GET' ? undefined : r.body,
          });
          const v = await call(request);
          // A read with a token that may read is answered; everything else here is refused.
          if (r.method === 'GET' && v.status === 200) return;
          refused(v, JSON.stringify(r).slice(0, 300));
        },
      ),
      RUN(2000),
    );
    expect(await fingerprint()).toBe(before);
  });

  it('Alertmanager payloads (1500): refused, never a 5xx, nothing stored', async () => {
    const before = await fingerprint();
    const alert = fc.record(
      {
        status: fc.oneof(fc.constantFrom('firing', 'resolved'), hostileScalar),
        labels: fc.oneof(hostileValue, fc.dictionary(fc.string({ maxLength: 10 }), hostileScalar, { maxKeys: 3 })),
        annotations: hostileValue,
        startsAt: hostileScalar,
        endsAt: hostileScalar,
        fingerprint: hostileScalar,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          source: fc.constantFrom('prod', 'prod', 'other', 'nope', 'PROD', '..'),
          auth: fc.constantFrom(
            `Bearer ${TEST_ALERTMANAGER_TOKENS.prod}`,
            `Bearer ${TEST_ALERTMANAGER_TOKENS.prod}`,
            `Bearer ${TEST_ALERTMANAGER_TOKENS.other}`,
            'Bearer x',
            '',
          ),
          body: fc.oneof(
            rawBody,
            fc
              .record(
                {
                  version: hostileScalar,
                  status: hostileScalar,
                  receiver: hostileScalar,
                  groupLabels: hostileValue,
                  alerts: fc.oneof(hostileValue, fc.array(alert, { maxLength: 4 })),
                },
                { requiredKeys: [] },
              )
              .map((o) => JSON.stringify(o)),
          ),
        }),
        async (r) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (r.auth !== '') headers.authorization = r.auth;
          refused(
            await call(new Request(`${BASE}/v1/alertmanager/${r.source}`, { method: 'POST', headers, body: r.body })),
            JSON.stringify(r).slice(0, 300),
          );
        },
      ),
      RUN(1500),
    );
    expect(await fingerprint()).toBe(before);
  });
});
