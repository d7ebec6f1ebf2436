// The second path that proves alerting works, on real parts: Prometheus 2.42 evaluates an always-firing
// Watchdog rule, Alertmanager 0.25 routes it every couple of seconds to the Worker's receiver under
// wrangler dev. Stopping Alertmanager must open an alert_path_silent window within its deadline.
import { migratedD1 } from '../support/migrated-d1.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import type { LocalWorker } from '../../scripts/local-worker.ts';
import { startOnFreePort } from '../support/e2e-worker.ts';
import { ALERTMANAGER_BIN, type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';
import { PROMETHEUS_BIN, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';
import { requireBinary } from '../support/requirement.ts';

const prometheus = requireBinary(PROMETHEUS_BIN, 'prometheus');
const alertmanagerBin = requireBinary(ALERTMANAGER_BIN, 'prometheus-alertmanager');
const available = prometheus.available && alertmanagerBin.available;
const reason = [prometheus, alertmanagerBin]
  .filter((r) => !r.available)
  .map((r) => r.reason)
  .join('; ');

const INTERVAL_S = 3;
const GRACE_S = 4;
const token = 'e2e-alertmanager-token-0123456789';
const webhookSecret = generateSecret();
const dir = mkdtempSync(join(tmpdir(), 'blindspot-alert-path-'));
const persistTo = join(dir, 'state');
let worker: LocalWorker | undefined;
let receiver: Recorder | undefined;
let alertmanager: RunningAlertmanager | undefined;
let prom: RunningPrometheus | undefined;

interface SourceRow {
  last_heartbeat_at: number;
  state: string;
}

beforeAll(async () => {
  if (!available) return;
  receiver = await startRecorder();
  const config = { alertmanager: { sources: [{ id: 'e2e', interval_s: INTERVAL_S, grace_s: GRACE_S }] } };
  writeFileSync(
    join(dir, 'worker.env'),
    [
      'BLINDSPOT_AGENT_SECRETS={}',
      `BLINDSPOT_ALERTMANAGER_TOKENS={"e2e":"${token}"}`,
      `BLINDSPOT_CONFIG=${JSON.stringify(config)}`,
      `BLINDSPOT_WEBHOOK_URL=${receiver.url}/events`,
      `BLINDSPOT_WEBHOOK_SECRET=${webhookSecret}`,
    ].join('\n'),
  );
  await migratedD1(persistTo);
  ({ worker } = await startOnFreePort((port) => ({ port, persistTo, envFile: join(dir, 'worker.env') })));
  alertmanager = await startAlertmanager(
    [
      'route:',
      '  receiver: blindspot',
      "  group_by: ['alertname']",
      '  group_wait: 0s',
      '  group_interval: 1s',
      '  repeat_interval: 2s',
      'receivers:',
      '  - name: blindspot',
      '    webhook_configs:',
      `      - url: ${worker.url}/v1/alertmanager/e2e`,
      '        send_resolved: false',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials: ${token}`,
    ].join('\n'),
  );
  prom = await startPrometheus({
    scrapeIntervalS: 1,
    alertmanagerUrl: alertmanager.url,
    // The first send can race Prometheus's discovery of Alertmanager and be dropped; resend soon.
    resendDelayS: 1,
    rules: [
      'groups:',
      '  - name: meta',
      '    rules:',
      '      - alert: Watchdog',
      '        expr: vector(time())',
      '        labels: { severity: none }',
      `        annotations: { blindspot_evaluated_at: '{{ $value | printf "%.0f" }}' }`,
    ].join('\n'),
  });
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  await alertmanager?.stop();
  await worker?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)(`the Alertmanager Watchdog path${available ? '' : ` (skipped: ${reason})`}`, () => {
  it('is verified while the Watchdog arrives, and alert_path_silent opens within its deadline once Alertmanager stops', async () => {
    const source = () => d1Query<SourceRow>(persistTo, "SELECT last_heartbeat_at, state FROM agents WHERE id = 'alertmanager:e2e'")[0];
    await waitFor('the first Watchdog notification to reach the Worker', async () => source()?.state === 'up', 60_000, 500);
    const live = await waitFor(
      'the Watchdog to be repeated',
      async () => {
        const html = await (await fetch(`${worker!.url}/`)).text();
        return /<span class="name">alertmanager:e2e<\/span>[\s\S]*?class="state operational"/.test(html) ? html : undefined;
      },
      30_000,
      500,
    );
    expect(live).toContain('alertmanager:e2e');

    await alertmanager!.stop();
    const stoppedAt = Date.now();
    const window = await waitFor(
      'the alert_path_silent window',
      async () =>
        d1Query<{ cause: string; started_at: number; confirmed_at: number }>(
          persistTo,
          "SELECT cause, started_at, confirmed_at FROM windows WHERE agent_id = 'alertmanager:e2e'",
        )[0],
      30_000,
      500,
    );
    expect(window.cause).toBe('alert_path_silent');
    // The deadline is interval + grace after the last Watchdog the Worker received.
    expect(window.confirmed_at - window.started_at).toBe(GRACE_S * 1000);
    expect(window.confirmed_at).toBeLessThanOrEqual(stoppedAt + (INTERVAL_S + GRACE_S) * 1000);

    const [opened] = d1Query<{ created_at: number }>(
      persistTo,
      "SELECT created_at FROM outbox WHERE agent_id = 'alertmanager:e2e' AND event_type = 'window.opened'",
    );
    expect(opened!.created_at - window.confirmed_at, worker!.output()).toBeLessThanOrEqual(2_000);
    await waitFor('the window.opened event at the receiver', async () => receiver!.requests.length > 0, 10_000);
    const event = new Webhook(webhookSecret).verify(
      receiver!.requests[0]!.body,
      receiver!.requests[0]!.headers as Record<string, string>,
    ) as { type: string; data: { window: { cause: string; monitor: string } } };
    expect(event).toMatchObject({ type: 'window.opened', data: { window: { cause: 'alert_path_silent', monitor: 'alert_path' } } });
  }, 150_000);
});
