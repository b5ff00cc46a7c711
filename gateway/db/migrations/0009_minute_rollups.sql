-- The middle tier of storage: one row per agent and UTC minute, written by the ingest in the same transaction
-- as the frames (gateway/db/rollups.py). Per-second frames go after retention_raw_days, these rows after
-- retention_minute_days (400 by default), the exposure ledger (exposure_days) is kept as a record.
--
-- Every column is a sum, a count, a maximum or a minimum of the minute's newly stored frames, so a frame stored
-- once (idempotent ingest) adds once and the arrival order does not matter. Sums are the ledger's (ISO 9612
-- Σ t·10^(0.1·L_Aeq), ISO 5349-1 Σ a_hv²·T, ISO 2631-1 Σ a_w²·T per axis); WBGT is not linear, so its
-- per-frame maximum is kept. No position: a worker's location is kept at most two months (CNIL, see
-- docs/privacy.md), this tier for over a year.
CREATE TABLE frame_minutes (
    agent_id          text             NOT NULL,
    minute            timestamptz      NOT NULL,
    worked_s          integer          NOT NULL DEFAULT 0,   -- 1-s frames stored
    hr_n              integer          NOT NULL DEFAULT 0,
    hr_sum_bpm        double precision NOT NULL DEFAULT 0,
    hr_max_bpm        real,
    noise_s           integer          NOT NULL DEFAULT 0,
    noise_sum_t_10pow double precision NOT NULL DEFAULT 0,
    lcpeak_max_db     real,
    peaks_over_135    integer          NOT NULL DEFAULT 0,
    hav_s             double precision NOT NULL DEFAULT 0,
    hav_sum_a2t       double precision NOT NULL DEFAULT 0,
    wbv_s             double precision NOT NULL DEFAULT 0,
    wbv_sum_x         double precision NOT NULL DEFAULT 0,
    wbv_sum_y         double precision NOT NULL DEFAULT 0,
    wbv_sum_z         double precision NOT NULL DEFAULT 0,
    wbgt_max_c        real,
    temp_ge_30_s      integer          NOT NULL DEFAULT 0,
    temp_le_5_s       integer          NOT NULL DEFAULT 0,
    lifts             integer          NOT NULL DEFAULT 0,
    tonnage_kg        double precision NOT NULL DEFAULT 0,
    battery_min_pct   real,
    sos_n             integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, minute)
);
-- A week per chunk: read by the month (crew reports), dropped by whole chunks after retention_minute_days;
-- at 10,000 agents on 8-h shifts a chunk holds about 34 million rows.
SELECT create_hypertable('frame_minutes', 'minute', chunk_time_interval => interval '7 days');
