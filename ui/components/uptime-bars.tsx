import type { ComponentUptime, DayState, UptimeDay } from '../../worker/core/uptime-days.ts';

const WORD: Record<DayState, string> = {
  ok: 'seeing all day',
  degraded: 'degraded',
  blind: 'blind',
  unknown: 'not measured (unknown)',
  paused: 'maintenance or expected silence',
  no_data: 'no data',
};

const dur = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);

/** "2026-11-20: blind 12 min, degraded 3 min" — the day's tooltip and its line in the details list. */
export function dayText(d: UptimeDay): string {
  const date = new Date(d.day).toISOString().slice(0, 10);
  if (d.state === 'no_data' || d.state === 'ok') return `${date}: ${WORD[d.state]}`;
  const parts = (['blind', 'unknown', 'degraded', 'paused'] as const)
    .filter((k) => d.seconds[k] > 0)
    .map((k) => `${k === 'paused' ? 'paused' : k} ${dur(d.seconds[k])}`);
  return `${date}: ${parts.join(', ')}`;
}

export function ratioText(ratio: number | null): string {
  if (ratio === null) return 'no data';
  const pct = ratio * 100;
  return `${pct >= 99.995 ? '100' : pct.toFixed(2)} % seeing`;
}

/** 90 days, oldest first. Each bar has its day in a title; the days that were not clean are also listed
 * in a <details> below, so the detail is there without JavaScript and without hovering. */
export function UptimeBars({ uptime, name }: { uptime: ComponentUptime; name: string }) {
  const bad = uptime.days.filter((d) => d.state !== 'ok' && d.state !== 'no_data');
  return (
    <div>
      <div class="bars" role="img" aria-label={`${name}, last ${uptime.days.length} days: ${ratioText(uptime.ratio)}`}>
        {uptime.days.map((d) => (
          <i class={`d-${d.state}`} title={dayText(d)} />
        ))}
      </div>
      <div class="scale meta">
        <span>{uptime.days.length} days ago</span>
        <span>{ratioText(uptime.ratio)}</span>
        <span>today</span>
      </div>
      {bad.length > 0 && (
        <details>
          <summary>
            {bad.length} {bad.length === 1 ? 'day' : 'days'} not fully seeing
          </summary>
          <ul class="days">
            {bad.reverse().map((d) => (
              <li class={d.state}>{dayText(d)}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
