// Faults of alert delivery and evaluation, injected into a real Prometheus or Alertmanager and judged
// by the Worker (test/support/alert-path-stack.ts): a rule group slower than its interval, alerts that
// cannot reach Alertmanager, notifications that cannot reach their receiver, a scrape over its sample
// limit. Each opens a window on the right monitor with the right cause, which pages once (and no other
// configured monitor pages; nor, for a scrape over its limit, auto:prometheus.targets_down: the target
// answered, so it is refused, not down), and closes when repaired; the time to the page is printed.
import { describe, it } from 'vitest';
import { alertPathAvailable, alertPathNeeds, SLOW_GROUP, useAlertPathStack, WATCHDOG_GROUP } from '../support/alert-path-stack.ts';
import { freePort } from '../support/ports.ts';

const stack = useAlertPathStack('alert-path-delivery');

describe.skipIf(!alertPathAvailable)(
  `alert-path faults through the Worker: evaluation and delivery${alertPathAvailable ? '' : ` (skipped: ${alertPathNeeds.map((n) => n.reason).join('; ')})`}`,
  () => {
    it('a rule group slower than its interval: rule-groups-keep-up, cause rules_behind, not notifications lost', async () => {
      const reader = stack.slowReadUrl();
      const slowConfig = `${stack.promConfig.trimEnd()}\nremote_read:\n  - url: ${reader}\n    read_recent: true\n    remote_timeout: 10s\n    required_matchers: { slow: "yes" }\n`;
      await stack.fault(
        'rule group slower than its interval',
        'rule-groups-keep-up',
        'rules_behind',
        () => stack.reloadPrometheus(slowConfig, `groups: [${WATCHDOG_GROUP}, ${SLOW_GROUP}]`),
        () => stack.reloadPrometheus(stack.promConfig),
      );
    }, 200_000);

    it('Prometheus pointed at an Alertmanager that does not answer: notifications-lost, cause dropped', async () => {
      const nobody = `127.0.0.1:${await freePort()}`;
      await stack.fault(
        'Alertmanager does not answer Prometheus',
        'notifications-lost',
        'dropped',
        () => stack.reloadPrometheus(stack.promConfig.replace(stack.alertmanagerHost, nobody)),
        () => stack.reloadPrometheus(stack.promConfig),
      );
    }, 200_000);

    it('Alertmanager failing every notification to its receiver: notifications-lost, cause dropped', async () => {
      await stack.fault(
        'the receiver refuses every notification',
        'notifications-lost',
        'dropped',
        () => stack.receiver.answer(() => ({ status: 500, body: 'down' })),
        () => stack.receiver.answer(() => ({ status: 202, body: '{}' })),
      );
    }, 200_000);

    it('a scrape over its sample limit: scrape-limits', async () => {
      await stack.fault(
        'scrape over its sample limit',
        'scrape-limits',
        'dropped',
        () => stack.reloadPrometheus(stack.promConfig.replace('sample_limit: 100', 'sample_limit: 5')),
        () => stack.reloadPrometheus(stack.promConfig),
        // The refused target's up is 0, but it answered: counted as refused, not as a target down.
        ['auto:prometheus.targets_down'],
      );
    }, 200_000);
  },
);
