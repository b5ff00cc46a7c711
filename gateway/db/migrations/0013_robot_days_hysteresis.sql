-- Near misses counted with a hysteresis (services/signals/robot_onsets.py): a stop or slow-down for a person
-- begins a new near miss only after the robot has been out of it for CLEAR_S seconds, where 0012 counted every
-- change of state (a reading jittering across the slow-down zone's edge counted each crossing).
-- last_stop / last_slow now say whether an episode is under way after the last state counted (they said the
-- last state's flags, which is the same thing without a hysteresis); these say since when the robot has been out
-- of it, so the count can go on from the last state.
ALTER TABLE robot_days
    ADD COLUMN stop_clear_since timestamptz,
    ADD COLUMN slow_clear_since timestamptz;

-- Recount, with the new rule, every robot-day whose raw states are all still stored (the day after the oldest
-- stored state onwards: retention drops whole chunks, the oldest day may be partial). Older days keep the counts
-- of the old rule: their states are gone. The signal compares a robot with its own baseline, so those older days
-- read somewhat higher than the recounted ones, which can hide a drift for a few weeks and cannot raise one.
-- The oldest state per robot: one probe of the (robot_id, ts) index each, not a scan of 30 days of states.
-- The housekeeper then recounts the marked days in its usual batches.
UPDATE robot_days d SET dirty = true, dirty_from = NULL, computed_at = NULL
FROM robots r
CROSS JOIN LATERAL (SELECT min(ts) AS t0 FROM robot_states s WHERE s.robot_id = r.robot_id) b
WHERE d.robot_id = r.robot_id AND b.t0 IS NOT NULL AND d.day > (b.t0 AT TIME ZONE 'UTC')::date + 1;
