-- A robot that follows a person and tells that person apart (a follower behind its collector) also reports the
-- nearest person other than its leader (contract v1 field nearest_other_human_m): its slow-downs while following
-- are routine, and the near-miss roll-up (gateway/db/robot_days.py, services/signals/robot_onsets.person_flags)
-- judges its slow-downs on the other people. tracks_leader false: the robot does not tell a leader apart (every
-- state stored before this migration, mowers, exoskeletons, a follower that lost its leader): every person counts,
-- as before. A constant default: PostgreSQL adds the column without rewriting the stored states.
ALTER TABLE robot_states
    ADD COLUMN tracks_leader boolean NOT NULL DEFAULT false,
    ADD COLUMN nearest_other_human_m real;
ALTER TABLE robot_latest
    ADD COLUMN tracks_leader boolean NOT NULL DEFAULT false,
    ADD COLUMN nearest_other_human_m real;
