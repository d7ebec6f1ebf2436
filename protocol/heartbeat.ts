// Heartbeat protocol v1: the public contract between agents and the Worker.
// Agents in other languages implement exactly this; see README "Heartbeat protocol".
import * as v from 'valibot';

export const PROTOCOL_VERSION = 1;
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_SIGNALS = 64;
export const TIMESTAMP_TOLERANCE_S = 300;
export const REPLAY_WINDOW_S = 600;
export const AGENT_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export const SIGNAL_KINDS = ['freshness', 'sampling', 'dropped', 'queue_age', 'saturation'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

const finiteNumber = v.pipe(v.number(), v.finite());

const LabelsSchema = v.pipe(
  v.custom<Record<string, unknown>>(
    (l) => typeof l === 'object' && l !== null && !Array.isArray(l),
    'labels is an object of name → value strings',
  ),
  v.record(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z_][A-Za-z0-9_.]{0,63}$/, 'label names look like Prometheus labels: [A-Za-z_][A-Za-z0-9_.]*, at most 64 characters'),
    ),
    v.pipe(v.string(), v.maxLength(256, 'label values are at most 256 characters')),
  ),
  v.maxEntries(16, 'at most 16 labels per signal'),
);

const SignalSchema = v.pipe(
  v.object({
    name: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'signal names use letters, digits and _ . : - (1 to 128 characters), e.g. "metrics.freshness"'),
    ),
    kind: v.picklist(SIGNAL_KINDS, `kind must be one of ${SIGNAL_KINDS.join(', ')}`),
    value: v.nullable(
      v.pipe(v.number('value must be a number, or null when the probe could not measure'), v.finite('value must be finite')),
    ),
    unit: v.optional(v.pipe(v.string(), v.maxLength(16))),
    error: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(1024, 'error is at most 1024 characters')))),
    labels: v.optional(LabelsSchema),
    /**
     * The signal this one is read through (e.g. "prometheus.up" for everything a probe asks Prometheus):
     * while that one is bad, this one's trouble is explained by it and is recorded without a page.
     */
    via: v.optional(
      v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'via names the signal this one is read through, e.g. "prometheus.up"')),
    ),
  }),
  v.check(
    (s) => s.value !== null || (typeof s.error === 'string' && s.error.length > 0),
    'a signal with value null must say why in "error" (unknown is not zero)',
  ),
  v.check(
    (s) => s.kind !== 'sampling' || s.value === null || (s.value >= 0 && s.value <= 1),
    'a sampling value is a ratio between 0 and 1',
  ),
  v.check((s) => s.kind !== 'dropped' || s.value === null || s.value >= 0, 'a dropped count cannot be negative'),
  v.check(
    (s) => s.kind !== 'saturation' || s.value === null || s.value >= 0,
    'a saturation is a fill ratio of at least 0 (length / capacity)',
  ),
);

export const HeartbeatSchema = v.pipe(
  v.object({
    v: v.literal(PROTOCOL_VERSION, `v must be ${PROTOCOL_VERSION}`),
    seq: v.pipe(v.number(), v.safeInteger('seq must be an integer'), v.minValue(0, 'seq cannot be negative')),
    boot: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'boot is an id of this agent process run: 1 to 64 of letters, digits and _ . : -'),
    ),
    sent_at: v.pipe(
      v.string(),
      v.isoTimestamp('sent_at must be an RFC 3339 timestamp such as 2026-11-22T10:00:00.000Z'),
      v.check((s) => Number.isFinite(Date.parse(s)), 'sent_at is not a real date'),
    ),
    interval_s: v.pipe(finiteNumber, v.minValue(1, 'interval_s is at least 1'), v.maxValue(3600, 'interval_s is at most 3600')),
    grace_s: v.optional(v.pipe(finiteNumber, v.minValue(0, 'grace_s cannot be negative'), v.maxValue(86400, 'grace_s is at most 86400'))),
    stopping: v.optional(v.boolean('stopping is true or false: true says the agent is being stopped on purpose')),
    signals: v.pipe(v.array(SignalSchema), v.maxLength(MAX_SIGNALS, `at most ${MAX_SIGNALS} signals per heartbeat`)),
  }),
  v.check((hb) => new Set(hb.signals.map(signalKey)).size === hb.signals.length, 'two signals share the same name and labels'),
);

export type Heartbeat = v.InferOutput<typeof HeartbeatSchema>;
export type Signal = Heartbeat['signals'][number];

/** Identity of a signal within one heartbeat: its name and its labels. */
export function signalKey(signal: { name: string; labels?: Record<string, string> | undefined }): string {
  const labels = Object.entries(signal.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${signal.name}${JSON.stringify(labels)}`;
}

export type ParseResult = { ok: true; heartbeat: Heartbeat } | { ok: false; message: string };

/** Validates a parsed JSON value; the message names each offending field. */
export function parseHeartbeat(input: unknown): ParseResult {
  const result = v.safeParse(HeartbeatSchema, input);
  if (result.success) return { ok: true, heartbeat: result.output };
  return { ok: false, message: describeIssues(result.issues) };
}

export function describeIssues(issues: readonly v.BaseIssue<unknown>[], limit = 5): string {
  const parts = issues.slice(0, limit).map((issue) => {
    const path = v.getDotPath(issue);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > limit ? ` (and ${issues.length - limit} more)` : '';
  return parts.join('; ') + more;
}
