// Prometheus as a whole: is it ingesting, are its targets up, do its rules evaluate, do its alerts
// leave for Alertmanager, does remote write keep up, and how fresh is the data of each pipeline.
// Ages are computed from Prometheus's own clock, so the agent's clock does not enter into them.
import type { Signal } from '../../protocol/heartbeat.ts';
import { Deltas, Restarts } from './counters.ts';
import { counter, type Families, samplesOf, scrape, total } from './exposition.ts';
import { under } from './http.ts';
import { instantQuery, single } from './prometheus-api.ts';
import { type AlertRulesOptions, alertRulesChecker, type RulesCheck } from './alert-rules.ts';
import { base, byText, measured, type Probe, readThrough, type SignalBase, signalOf, unknownSignal } from './probe.ts';
import { queryFreshness } from './prometheus-freshness.ts';

export interface FreshnessTarget {
  /** Signal name; default metrics.freshness. */
  name: string;
  /** A series selector, or a scrape job: exactly one. */
  selector?: string;
  job?: string;
  /** How far back a sample still counts; beyond it the freshness is unknown. */
  lookback: string;
  labels: Record<string, string>;
}

export interface PrometheusOptions {
  name: string;
  url: string;
  timeoutS: number;
  freshness: FreshnessTarget[];
  /** auto: report remote-write lag when Prometheus has remote-write queues; true: always (unknown without); false: never. */
  remoteWrite: boolean | 'auto';
  /** Whether (and how) to check that every alerting rule's input series exist; null: do not. */
  alertRules: Omit<AlertRulesOptions, 'url' | 'timeoutS'> | null;
  labels: Record<string, string>;
}

/** Rules that cannot fire, named one signal each (the first of them names the window), at most this many. */
export const MAX_NAMED_RULES = 10;

/** Targets that did not answer their last scrape (refused, timed out, an HTTP error): `up` 0 and nothing scraped. */
export const TARGETS_DOWN_QUERY = 'count(up == 0 unless scrape_samples_scraped > 0) or vector(0)';
/**
 * Targets that answered, but whose scrape Prometheus refused (over its sample or label limit, an
 * exposition it cannot parse): `up` 0 with samples scraped. Their data never arrives, though they are
 * up; told apart from the targets down, so one fault is one signal (and one page).
 */
export const TARGETS_REFUSED_QUERY = 'count(up == 0 and scrape_samples_scraped > 0) or vector(0)';

/**
 * For this long after Prometheus loads its configuration (a start or a reload), its discovery is
 * starting over: for a second or two it knows no Alertmanager and no targets, and drops the alerts it
 * tries to send meanwhile (it sends them again while they fire). Readings in that span count neither
 * Alertmanagers nor jobs as missing, nor those drops as lost; a job or an Alertmanager still missing
 * after it is, from the next reading on. Without it, every reload was a blip, and three in half an
 * hour made those monitors flap.
 */
export const RELOAD_SETTLE_S = 10;

export function prometheusProbe(options: PrometheusOptions): Probe {
  const labels = { source: 'prometheus', ...options.labels };
  const n = options.name;
  const deltas = new Deltas();
  const restarts = new Restarts();
  const sig = {
    up: base(`${n}.up`, 'freshness', 's', labels),
    targetsDown: base(`${n}.targets_down`, 'dropped', 'targets', labels),
    rulesFailed: base(`${n}.rules.failed`, 'dropped', 'evaluations', labels),
    rulesMissed: base(`${n}.rules.missed`, 'dropped', 'iterations', labels),
    dropped: base(`${n}.notifications.dropped`, 'dropped', 'alerts', labels),
    queueFill: base(`${n}.notifications.queue_fill`, 'saturation', 'ratio', labels),
    notifyErrors: base(`${n}.notifications.errors`, 'dropped', 'errors', labels),
    alertmanagersMissing: base(`${n}.alertmanagers.missing`, 'dropped', 'alertmanagers', labels),
    rulesLoad: base(`${n}.rules.load`, 'saturation', 'ratio', labels),
    reloadFailed: base(`${n}.config.reload_failed`, 'dropped', 'reloads', labels),
    scrapeLimited: base(`${n}.scrape.limit_exceeded`, 'dropped', 'scrapes', labels),
    scrapeRefused: base(`${n}.scrape.refused_targets`, 'dropped', 'targets', labels),
    jobsEmpty: base(`${n}.targets.jobs_empty`, 'dropped', 'jobs', labels),
    restarts: base(`${n}.restarts`, 'dropped', 'restarts', labels),
    unfireable: base(`${n}.rules.unfireable`, 'dropped', 'rules', labels),
  };
  const rules =
    options.alertRules === null ? null : alertRulesChecker({ ...options.alertRules, url: options.url, timeoutS: options.timeoutS });
  // Scrape configs that discovered targets at some point: one at 0 now has vanished from discovery.
  const jobsSeen = new Set<string>();
  const target = { what: 'Prometheus', url: under(options.url, 'metrics'), timeoutS: options.timeoutS };
  const read = [
    'prometheus_tsdb_head_max_time',
    'prometheus_rule_',
    'prometheus_notifications_',
    'prometheus_remote_storage_highest_timestamp_in_seconds',
    'prometheus_remote_storage_queue_highest_sent_timestamp_seconds',
    'prometheus_remote_storage_samples_failed',
    'prometheus_remote_storage_samples_dropped',
    'prometheus_remote_storage_failed_samples',
    'prometheus_config_last_reload_successful',
    'prometheus_config_last_reload_success_timestamp_seconds',
    'prometheus_target_scrapes_exceeded_sample_limit',
    'prometheus_target_scrape_pool_exceeded_',
    'prometheus_sd_discovered_targets',
    'process_start_time_seconds',
  ];
  const probe: Probe = {
    name: n,
    type: 'prometheus',
    async collect(): Promise<Signal[]> {
      const [metrics, down, refused, ruleCheck, ...fresh] = await Promise.all([
        scrape(target, read),
        instantQuery(options.url, TARGETS_DOWN_QUERY, options.timeoutS),
        instantQuery(options.url, TARGETS_REFUSED_QUERY, options.timeoutS),
        rules?.check() ?? Promise.resolve(null),
        ...options.freshness.map((f) =>
          queryFreshness(options.url, f.job !== undefined ? { job: f.job } : { selector: f.selector ?? '' }, options.timeoutS, f.lookback),
        ),
      ]);
      const out: Signal[] = [];
      // Ingestion: how old is the newest sample Prometheus stored, by Prometheus's clock at query time.
      if (!metrics.ok) out.push(unknownSignal(sig.up, metrics.error));
      else if (!down.ok) out.push(unknownSignal(sig.up, down.error));
      else out.push(signalOf(sig.up, ingestAge(metrics.value, down.value.time)));
      out.push(down.ok ? signalOf(sig.targetsDown, single(down.value, TARGETS_DOWN_QUERY)) : unknownSignal(sig.targetsDown, down.error));
      out.push(
        refused.ok
          ? signalOf(sig.scrapeRefused, single(refused.value, TARGETS_REFUSED_QUERY))
          : unknownSignal(sig.scrapeRefused, refused.error),
      );
      options.freshness.forEach((f, i) => {
        const b = base(f.name, 'freshness', 's', { ...labels, ...f.labels });
        out.push(signalOf(b, fresh[i] ?? { error: 'no answer' }));
      });
      if (ruleCheck !== null) out.push(...unfireableSignals(sig.unfireable, ruleCheck, rules?.lastError() ?? null));
      if (!metrics.ok) {
        const fromMetrics = [sig.rulesFailed, sig.rulesMissed, sig.dropped, sig.queueFill, sig.notifyErrors, sig.alertmanagersMissing];
        for (const b of [...fromMetrics, sig.rulesLoad, sig.reloadFailed, sig.scrapeLimited, sig.jobsEmpty, sig.restarts])
          out.push(unknownSignal(b, metrics.error));
        if (options.remoteWrite === true) out.push(unknownSignal(base(`${n}.remote_write.lag`, 'queue_age', 's', labels), metrics.error));
        return out;
      }
      const f = metrics.value;
      // A new process: its counters are read from a new baseline, not as a jump.
      if (restarts.observe(samplesOf(f, ['process_start_time_seconds'])?.[0]?.value)) deltas.reset();
      out.push(restartsSignal(sig.restarts, f, restarts));
      // Prometheus makes the rule counters per rule group: none at all means no rules, so none failed.
      const noRules = samplesOf(f, ['prometheus_rule_group_rules']) === null;
      out.push(noRules ? measured(sig.rulesFailed, 0) : counterDelta(sig.rulesFailed, f, 'prometheus_rule_evaluation_failures', deltas));
      out.push(
        noRules ? measured(sig.rulesMissed, 0) : counterDelta(sig.rulesMissed, f, 'prometheus_rule_group_iterations_missed', deltas),
      );
      // Just after a configuration load, discovery is starting over: see RELOAD_SETTLE_S.
      const settling = settlingAfterLoad(f, down.ok ? down.value.time : Date.now() / 1000);
      const unlessSettling = (signal: Signal): Signal =>
        settling && signal.value !== null && signal.value > 0 ? { ...signal, value: 0 } : signal;
      out.push(unlessSettling(counterDelta(sig.dropped, f, 'prometheus_notifications_dropped', deltas)));
      out.push(signalOf(sig.queueFill, queueFill(f)));
      // Counted per Alertmanager: with none configured the family is absent, and alertmanagers.missing says why.
      const noAlertmanager = samplesOf(f, counter('prometheus_notifications_errors')) === null;
      out.push(
        noAlertmanager
          ? measured(sig.notifyErrors, 0)
          : unlessSettling(counterDelta(sig.notifyErrors, f, 'prometheus_notifications_errors', deltas)),
      );
      out.push(unlessSettling(signalOf(sig.alertmanagersMissing, alertmanagersMissing(f))));
      out.push(noRules ? measured(sig.rulesLoad, 0) : signalOf(sig.rulesLoad, ruleLoad(f)));
      out.push(signalOf(sig.reloadFailed, reloadFailed(f, 'prometheus_config_last_reload_successful')));
      out.push(measured(sig.scrapeLimited, deltas.next(sig.scrapeLimited.name, scrapesOverLimits(f))));
      out.push(unlessSettling(signalOf(sig.jobsEmpty, jobsEmpty(f, jobsSeen))));
      if (options.remoteWrite !== false) {
        out.push(...remoteWriteLag(f, n, labels, options.remoteWrite === true));
        out.push(...remoteWriteFailed(f, n, labels, deltas));
      }
      return out;
    },
  };
  // Everything else this probe reads is read through Prometheus answering: one outage, one page.
  return readThrough(probe, sig.up.name, new Set([sig.up.name]));
}

/** Restarts in the last ten minutes; unknown when the process does not say when it started. */
export function restartsSignal(b: SignalBase, f: Families, restarts: Restarts): Signal {
  return samplesOf(f, ['process_start_time_seconds']) === null
    ? unknownSignal(b, 'process_start_time_seconds is missing from /metrics')
    : measured(b, restarts.recent());
}

/** Per rule that cannot fire, a signal named after it (first, so it names the window), then the count. */
function unfireableSignals(b: SignalBase, check: RulesCheck, lastError: string | null): Signal[] {
  if (!check.ok) return [unknownSignal(b, check.error)];
  const cannot = check.rules.filter((r) => r.state === 'cannot_fire').sort((x, y) => byText(x.group + x.rule, y.group + y.rule));
  const answered = check.rules.filter((r) => r.state !== 'unknown').length;
  if (cannot.length === 0 && answered === 0 && check.rules.some((r) => r.error !== null && r.missing.length === 0))
    return [unknownSignal(b, `no alerting rule could be checked: ${check.rules.find((r) => r.error !== null)?.error ?? lastError ?? ''}`)];
  const named = cannot.slice(0, MAX_NAMED_RULES).map((r) =>
    measured(
      {
        ...b,
        name: `${b.name}:${ruleSignalSuffix(r.rule)}`,
        labels: { ...b.labels, group: r.group.slice(0, 256), missing: (r.missing[0] ?? '').slice(0, 256) },
      },
      1,
    ),
  );
  return [...named, measured(b, cannot.length)];
}

/** A rule's name as the tail of a signal name (letters, digits and _ . : - only). */
export function ruleSignalSuffix(rule: string): string {
  return rule.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 80) || '_';
}

/** Alerts go nowhere while Prometheus knows no Alertmanager. */
function alertmanagersMissing(f: Families): { value: number } | { error: string } {
  const found = samplesOf(f, ['prometheus_notifications_alertmanagers_discovered'])?.[0]?.value;
  return found === undefined
    ? { error: 'prometheus_notifications_alertmanagers_discovered is missing from /metrics' }
    : { value: found < 1 ? 1 : 0 };
}

/** The slowest rule group's last evaluation as a share of its interval: at 1 or more it cannot keep up. */
function ruleLoad(f: Families): { value: number } | { error: string } {
  const durations = samplesOf(f, ['prometheus_rule_group_last_duration_seconds']);
  const intervals = samplesOf(f, ['prometheus_rule_group_interval_seconds']);
  if (durations === null || intervals === null)
    return { error: 'prometheus_rule_group_last_duration_seconds/_interval_seconds are missing from /metrics' };
  const interval = new Map(intervals.map((s) => [s.labels.rule_group ?? '', s.value]));
  let worst = 0;
  for (const d of durations) {
    const i = interval.get(d.labels.rule_group ?? '');
    if (i !== undefined && i > 0 && Number.isFinite(d.value)) worst = Math.max(worst, d.value / i);
  }
  return { value: worst };
}

/** 1 while the last configuration reload failed (the old configuration still runs), else 0. */
export function reloadFailed(f: Families, family: string): { value: number } | { error: string } {
  const ok = samplesOf(f, [family])?.[0]?.value;
  return ok === undefined ? { error: `${family} is missing from /metrics` } : { value: ok === 1 ? 0 : 1 };
}

/** Whether Prometheus loaded its configuration less than RELOAD_SETTLE_S before `now` (its own clock). */
function settlingAfterLoad(f: Families, now: number): boolean {
  const loadedAt = samplesOf(f, ['prometheus_config_last_reload_success_timestamp_seconds'])?.[0]?.value;
  return loadedAt !== undefined && Number.isFinite(now) && now - loadedAt >= 0 && now - loadedAt < RELOAD_SETTLE_S;
}

/** Scrapes refused for breaking a sample, label or target limit, all counted together. */
function scrapesOverLimits(f: Families): number {
  return [
    'prometheus_target_scrapes_exceeded_sample_limit',
    'prometheus_target_scrape_pool_exceeded_label_limits',
    'prometheus_target_scrape_pool_exceeded_target_limit',
  ].reduce((sum, family) => sum + total(samplesOf(f, counter(family)) ?? []), 0);
}

/** Scrape configs that discovered targets before and discover none now. */
function jobsEmpty(f: Families, seen: Set<string>): { value: number } | { error: string } {
  const discovered = samplesOf(f, ['prometheus_sd_discovered_targets']);
  if (discovered === null) return { error: 'prometheus_sd_discovered_targets is missing from /metrics' };
  let empty = 0;
  for (const s of discovered) {
    if ((s.labels.name ?? 'scrape') !== 'scrape') continue;
    const job = s.labels.config ?? '';
    if (s.value > 0) {
      if (seen.size < 1000) seen.add(job);
    } else if (seen.has(job)) empty++;
  }
  return { value: empty };
}

/** Per remote-write queue: samples it failed to send or dropped since the last heartbeat. */
function remoteWriteFailed(f: Families, n: string, labels: Record<string, string>, deltas: Deltas): Signal[] {
  const failed =
    samplesOf(f, [...counter('prometheus_remote_storage_samples_failed'), ...counter('prometheus_remote_storage_failed_samples')]) ?? [];
  const dropped =
    samplesOf(f, [...counter('prometheus_remote_storage_samples_dropped'), ...counter('prometheus_remote_storage_dropped_samples')]) ?? [];
  const byRemote = new Map<string, number>();
  for (const s of [...failed, ...dropped]) {
    const remote = s.labels.remote_name ?? '';
    if (Number.isFinite(s.value)) byRemote.set(remote, (byRemote.get(remote) ?? 0) + s.value);
  }
  return [...byRemote].map(([remote, count]) => {
    const b = base(`${n}.remote_write.failed`, 'dropped', 'samples', remote === '' ? labels : { ...labels, remote: remote.slice(0, 256) });
    return measured(b, deltas.next(`remote_write.failed:${remote}`, count));
  });
}

function ingestAge(f: Families, serverTime: number): { value: number } | { error: string } {
  const head = samplesOf(f, ['prometheus_tsdb_head_max_time'])?.[0]?.value;
  if (head === undefined)
    return {
      error: 'prometheus_tsdb_head_max_time is missing from /metrics: is this Prometheus (not an agent-mode or compatible server)?',
    };
  if (!Number.isFinite(head) || head <= 0) return { error: 'Prometheus has stored no sample yet: it sees nothing' };
  if (!Number.isFinite(serverTime)) return { error: 'Prometheus did not say its query time' };
  return { value: Math.max(0, serverTime - head / 1000) };
}

/** A counter family as "how many since the last heartbeat"; unknown when the component does not expose it. */
export function counterDelta(
  b: Parameters<typeof measured>[0],
  f: Families,
  family: string,
  deltas: Deltas,
  where?: (labels: Record<string, string>) => boolean,
): Signal {
  const samples = samplesOf(f, counter(family));
  if (samples === null) return unknownSignal(b, `${family}_total is missing from /metrics`);
  return measured(b, deltas.next(`${b.name}${JSON.stringify(b.labels)}`, total(samples, where)));
}

function queueFill(f: Families): { value: number } | { error: string } {
  const length = samplesOf(f, ['prometheus_notifications_queue_length']);
  const capacity = samplesOf(f, ['prometheus_notifications_queue_capacity']);
  if (length === null || capacity === null) return { error: 'prometheus_notifications_queue_length/_capacity are missing from /metrics' };
  const cap = total(capacity);
  return cap > 0 ? { value: total(length) / cap } : { error: 'prometheus_notifications_queue_capacity is 0' };
}

/** Per remote-write queue: how far the newest sample sent lags behind the newest sample ingested. */
function remoteWriteLag(f: Families, n: string, labels: Record<string, string>, required: boolean): Signal[] {
  const newest = samplesOf(f, ['prometheus_remote_storage_highest_timestamp_in_seconds'])?.[0]?.value;
  const sent = samplesOf(f, ['prometheus_remote_storage_queue_highest_sent_timestamp_seconds']) ?? [];
  const b = (remote: string) =>
    base(`${n}.remote_write.lag`, 'queue_age', 's', remote === '' ? labels : { ...labels, remote: remote.slice(0, 256) });
  if (sent.length === 0)
    return required
      ? [
          unknownSignal(
            b(''),
            'remote_write: true, but Prometheus has no remote-write queue (prometheus_remote_storage_queue_highest_sent_timestamp_seconds is missing)',
          ),
        ]
      : [];
  if (newest === undefined)
    return sent.map((s) =>
      unknownSignal(b(s.labels.remote_name ?? ''), 'prometheus_remote_storage_highest_timestamp_in_seconds is missing from /metrics'),
    );
  return sent.map((s) => measured(b(s.labels.remote_name ?? ''), Math.max(0, newest - s.value)));
}
