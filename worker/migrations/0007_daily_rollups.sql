-- Rollups become one row per agent and UTC day, with every monitor's seconds per state and every
-- signal's day statistics as JSON objects. Dense per-monitor rows every 5 minutes and every hour
-- cost about 190 KB of D1 per agent per day; this costs about 5 KB. Nothing read the 5-minute rows
-- or the signal statistics; the status page draws days, and the gap report needs which monitors an
-- agent fed, both of which a day row holds. The windows keep the exact times.
CREATE TABLE agent_days (
  agent_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  -- monitor → [good, degraded, blind, unknown, paused] seconds that day
  monitors TEXT NOT NULL DEFAULT '{}',
  -- signal key → [name, last, min, max, samples, unknown] that day
  signals TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (agent_id, day)
) WITHOUT ROWID;
CREATE INDEX agent_days_by_day ON agent_days (day);

-- The hourly rollups, summed per day (the 5-minute rows are the same seconds again, finer).
INSERT INTO agent_days (agent_id, day, monitors)
  SELECT agent_id, day, json_group_object(monitor, json_array(g, d, b, u, p))
  FROM (
    SELECT agent_id, monitor, (bucket_start / 86400000) * 86400000 AS day,
           round(sum(good_s), 3) AS g, round(sum(degraded_s), 3) AS d, round(sum(blind_s), 3) AS b,
           round(sum(unknown_s), 3) AS u, round(sum(paused_s), 3) AS p
    FROM rollup_1h GROUP BY agent_id, monitor, day
  )
  GROUP BY agent_id, day;

-- The hourly signal statistics, merged per day: the day's last value is its latest hour's.
INSERT INTO agent_days (agent_id, day, signals)
  SELECT * FROM (
    SELECT agent_id, day, json_group_object(signal_key, json_array(name, last, mn, mx, n, u)) AS signals
    FROM (
      SELECT r.agent_id, r.signal_key, (r.bucket_start / 86400000) * 86400000 AS day, max(r.name) AS name,
             (SELECT x.last FROM signal_rollup_1h x
               WHERE x.agent_id = r.agent_id AND x.signal_key = r.signal_key AND x.last IS NOT NULL
                 AND x.bucket_start / 86400000 = r.bucket_start / 86400000
               ORDER BY x.bucket_start DESC LIMIT 1) AS last,
             min(r.min) AS mn, max(r.max) AS mx, sum(r.samples) AS n, sum(r.unknown) AS u
      FROM signal_rollup_1h r GROUP BY r.agent_id, r.signal_key, day
    )
    GROUP BY agent_id, day
  ) WHERE true
  ON CONFLICT (agent_id, day) DO UPDATE SET signals = excluded.signals;

DROP TABLE rollup_5m;
DROP TABLE rollup_1h;
DROP TABLE signal_rollup_1h;
