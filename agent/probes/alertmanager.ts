// Alertmanager: does it answer, do notifications reach their receivers, are alerts refused as
// invalid, did its configuration reload, is the cluster whole (its own /metrics), and do its silences
// mute every critical alert or lie forgotten (/api/v2/silences, silences.ts).
import type { Signal } from '../../protocol/heartbeat.ts';
import { Deltas, Restarts } from './counters.ts';
import { counter, type Families, samplesOf, scrape, totalsBy } from './exposition.ts';
import { under } from './http.ts';
import { base, measured, type Probe, readThrough, signalOf, unknownSignal } from './probe.ts';
import { counterDelta, reloadFailed, restartsSignal } from './prometheus.ts';
import { fetchSilences, silenceSignals } from './silences.ts';

export interface AlertmanagerOptions {
  name: string;
  url: string;
  timeoutS: number;
  /** How many members the cluster should have; default: the most the probe has seen. Ignored when not clustered. */
  clusterSize: number | undefined;
  /** A silence nobody updated for longer than this is reported as stale; null: silences are not read. */
  silenceMaxAgeS: number | null;
  labels: Record<string, string>;
}

export function alertmanagerProbe(options: AlertmanagerOptions): Probe {
  const labels = { source: 'alertmanager', ...options.labels };
  const n = options.name;
  const deltas = new Deltas();
  const restarts = new Restarts();
  const restartsBase = base(`${n}.restarts`, 'dropped', 'restarts', labels);
  // Integrations are reported once they have been used, and from then on every heartbeat, so a
  // receiver that goes quiet does not vanish from the watchdog.
  const integrations = new Set<string>();
  let mostPeers = 0;
  const failed = (integration: string) => base(`${n}.notifications.failed`, 'dropped', 'notifications', { ...labels, integration });
  const invalid = base(`${n}.alerts.invalid`, 'dropped', 'alerts', labels);
  const peers = base(`${n}.cluster.peers_missing`, 'dropped', 'peers', labels);
  const reload = base(`${n}.config.reload_failed`, 'dropped', 'reloads', labels);
  // Seconds since Alertmanager last answered: 0 when it answers now, unknown when it does not.
  const up = base(`${n}.up`, 'freshness', 's', labels);
  const target = { what: 'Alertmanager', url: under(options.url, 'metrics'), timeoutS: options.timeoutS };
  const probe: Probe = {
    name: n,
    type: 'alertmanager',
    async collect(): Promise<Signal[]> {
      const [metrics, silences] = await Promise.all([
        scrape(target, [
          'alertmanager_notifications',
          'alertmanager_alerts_invalid',
          'alertmanager_cluster_',
          'alertmanager_config_last_reload_successful',
          'process_start_time_seconds',
        ]),
        options.silenceMaxAgeS === null ? Promise.resolve(null) : fetchSilences(options.url, options.timeoutS),
      ]);
      const silenced =
        silences === null || options.silenceMaxAgeS === null ? [] : silenceSignals(n, labels, silences, options.silenceMaxAgeS, Date.now());
      if (!metrics.ok) {
        const known = integrations.size > 0 ? [...integrations] : ['all'];
        return [
          unknownSignal(up, metrics.error),
          ...known.map((i) => unknownSignal(failed(i), metrics.error)),
          unknownSignal(invalid, metrics.error),
          unknownSignal(reload, metrics.error),
          unknownSignal(restartsBase, metrics.error),
          ...silenced,
        ];
      }
      const f = metrics.value;
      // A new process: its counters are read from a new baseline, not as a jump.
      if (restarts.observe(samplesOf(f, ['process_start_time_seconds'])?.[0]?.value)) deltas.reset();
      const out: Signal[] = [measured(up, 0), restartsSignal(restartsBase, f, restarts), ...silenced];
      const sent = totalsBy(samplesOf(f, counter('alertmanager_notifications')) ?? [], 'integration');
      const failures = samplesOf(f, counter('alertmanager_notifications_failed'));
      if (failures === null) out.push(unknownSignal(failed('all'), 'alertmanager_notifications_failed_total is missing from /metrics'));
      else {
        const byIntegration = totalsBy(failures, 'integration');
        for (const [integration, count] of [...sent, ...byIntegration]) if (count > 0) integrations.add(integration);
        for (const integration of integrations) {
          out.push(measured(failed(integration), deltas.next(`failed:${integration}`, byIntegration.get(integration) ?? 0)));
        }
        // Until any notification was sent there is still one signal, so the monitor has something to judge.
        if (integrations.size === 0) out.push(measured(failed('all'), 0));
      }
      out.push(counterDelta(invalid, f, 'alertmanager_alerts_invalid', deltas));
      out.push(signalOf(reload, reloadFailed(f, 'alertmanager_config_last_reload_successful')));
      const cluster = clusterSignal(f, options.clusterSize, mostPeers, peers);
      if (cluster !== null) {
        mostPeers = Math.max(mostPeers, cluster.members);
        out.push(cluster.signal);
      }
      return out;
    },
  };
  // Everything else this probe reads is read through Alertmanager answering: one outage, one page.
  return readThrough(probe, up.name, new Set([up.name]));
}

function clusterSignal(
  f: Families,
  expected: number | undefined,
  mostSeen: number,
  b: ReturnType<typeof base>,
): { signal: Signal; members: number } | null {
  const enabled = samplesOf(f, ['alertmanager_cluster_enabled'])?.[0]?.value;
  if (enabled !== 1) return null;
  const members = samplesOf(f, ['alertmanager_cluster_members'])?.[0]?.value;
  if (members === undefined) return { signal: unknownSignal(b, 'alertmanager_cluster_members is missing from /metrics'), members: 0 };
  const want = expected ?? Math.max(mostSeen, members);
  return { signal: measured(b, Math.max(0, want - members)), members };
}
