-- The robots' near misses per local day (issue 9, signal robot_near_misses), rolled up from robot_states.
-- The signal's trend needs 30 worked days of baseline (about 42 calendar days) while raw robot states go after
-- retention_raw_days (30 by default), and counting onsets with a window function over months of raw states
-- (100 robots at 10 Hz: 86 million states a day) per API call would not scale. So the ingest marks the
-- robot-days its states fall on (gateway/db/ingest_store.py), the housekeeper computes them
-- (gateway/db/robot_days.refresh), the signals read this table, and it is kept like the minute tier
-- (retention_minute_days).
CREATE TABLE robot_days (
    robot_id         text        NOT NULL,
    day              date        NOT NULL,   -- local day in the site's time zone, as the exposure ledger's
    first_ts         timestamptz,            -- first and last state of the day: work hours = last_ts - first_ts
    last_ts          timestamptz,
    -- Onsets (a state differs from the robot's previous one): one stop for one person is one near miss however
    -- long it lasts (services/signals/robot_onsets.py).
    protective_stops integer     NOT NULL DEFAULT 0,
    slowdowns        integer     NOT NULL DEFAULT 0,
    -- The flags of the last state counted: states arriving later continue the count from here.
    last_stop        boolean,
    last_slow        boolean,
    -- Marked by every ingest batch with states on the day; dirty_from is the earliest of those states: at or
    -- before last_ts (late, out of order) the day is recomputed whole, else counted on from last_ts.
    dirty            boolean     NOT NULL DEFAULT true,
    dirty_from       timestamptz,
    computed_at      timestamptz,            -- NULL: never computed, not read by the signals yet
    PRIMARY KEY (robot_id, day)
);
-- The housekeeper's refresh reads only the dirty rows: a handful among months of robot-days.
CREATE INDEX robot_days_dirty ON robot_days (day) WHERE dirty;

-- The refresh reads one robot's states after its last counted state (every 20 s for a working robot); the only
-- index led by robot_id is (robot_id, seq, ts), which would scan the robot's whole day each time.
CREATE INDEX robot_states_robot_ts ON robot_states (robot_id, ts);

-- Backfill: every robot-day of the raw states still stored, marked to be computed. The migration does not know
-- the site's time zone, so each UTC date of a robot's states is marked with the dates either side (a local day is
-- one of them in any zone); a row whose day has no state is computed to nothing and deleted by the refresh.
-- Per robot, the days between its first and last stored state: two index probes, where a DISTINCT over up to
-- 30 days of raw states (billions of rows at city scale) would hold the migration for a long time.
INSERT INTO robot_days (robot_id, day, dirty)
SELECT r.robot_id, d::date, true
FROM robots r
CROSS JOIN LATERAL (SELECT min(ts) AS t0, max(ts) AS t1 FROM robot_states s WHERE s.robot_id = r.robot_id) b
CROSS JOIN LATERAL generate_series((b.t0 AT TIME ZONE 'UTC')::date - 1, (b.t1 AT TIME ZONE 'UTC')::date + 1,
                                   interval '1 day') AS d
WHERE b.t0 IS NOT NULL
ON CONFLICT DO NOTHING;
