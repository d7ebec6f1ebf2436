// Faults that leave the monitoring alive and useless, injected into a real Prometheus or Alertmanager
// and judged by the Worker (test/support/alert-path-stack.ts): configuration that no longer applies and
// data that no longer arrives. Each opens a window on the right monitor with the right cause, which pages
// once (and nothing else pages), and closes when repaired; the time to the page is printed.
import { describe, it } from 'vitest';
import { alertPathAvailable, alertPathNeeds, useAlertPathStack } from '../support/alert-path-stack.ts';

const stack = useAlertPathStack('alert-path-config');

describe.skipIf(!alertPathAvailable)(
  `alert-path faults through the Worker: configuration and data${alertPathAvailable ? '' : ` (skipped: ${alertPathNeeds.map((n) => n.reason).join('; ')})`}`,
  () => {
    it('a broken Prometheus config reload: config-reloads, not notifications lost', async () => {
      await stack.fault(
        'Prometheus config reload fails',
        'config-reloads',
        'config_reload_failed',
        () => stack.reloadPrometheus(`${stack.promConfig}\n  - job_name: broken\n    static_configs: [{ targets: [not a target list`),
        () => stack.reloadPrometheus(stack.promConfig),
      );
    }, 200_000);

    it('a broken Alertmanager config reload: config-reloads', async () => {
      await stack.fault(
        'Alertmanager config reload fails',
        'config-reloads',
        'config_reload_failed',
        () => stack.reloadAlertmanager('route: { receiver: nobody-by-that-name }\nreceivers: [{ name: none }]\n'),
        () => stack.reloadAlertmanager(stack.amConfig),
      );
    }, 200_000);

    it('remote write refused: remote-write-delivers', async () => {
      await stack.fault(
        'remote write refused',
        'remote-write-delivers',
        'dropped',
        () => stack.remote.answer(() => ({ status: 400, body: 'refused' })),
        () => stack.remote.answer(() => ({ status: 204, body: '' })),
      );
    }, 200_000);

    it('a job that vanishes from discovery: jobs-discovered, cause targets_missing', async () => {
      await stack.fault(
        'job gone from discovery',
        'jobs-discovered',
        'targets_missing',
        () =>
          stack.reloadPrometheus(
            stack.promConfig.replace(/(job_name: app\n(?:.*\n)*? {4})static_configs:\n.*\n?/, '$1static_configs: []\n'),
          ),
        () => stack.reloadPrometheus(stack.promConfig),
      );
    }, 200_000);
  },
);
