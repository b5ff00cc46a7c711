-- The exposure ledger: one row per agent and local day, updated additively as frames are stored.
-- Every column is a sum, a count or a maximum, so the order frames arrive in does not matter and a frame
-- stored once (idempotent ingest) contributes once. Kept for years (retention never drops it).

ALTER TABLE agents
    ADD COLUMN hearing_attenuation_db real NOT NULL DEFAULT 0 CHECK (hearing_attenuation_db >= 0),
    ADD COLUMN task text NOT NULL DEFAULT 'collector_walking',
    ADD COLUMN acclimatised boolean NOT NULL DEFAULT true,
    ADD COLUMN resting_hr_bpm real NOT NULL DEFAULT 70 CHECK (resting_hr_bpm BETWEEN 30 AND 120);

CREATE TABLE exposure_days (
    agent_id               text NOT NULL REFERENCES agents (agent_id),
    day                    date NOT NULL,
    worked_s               double precision NOT NULL DEFAULT 0,
    first_ts               timestamptz,
    last_ts                timestamptz,
    noise_s                double precision NOT NULL DEFAULT 0,
    noise_sum_t_10pow      double precision NOT NULL DEFAULT 0,   -- Σ t·10^(0.1·LAeq), ISO 9612
    lcpeak_max_db          real,
    peaks_over_135         integer NOT NULL DEFAULT 0,
    peaks_over_135_at_ear  integer NOT NULL DEFAULT 0,
    hav_s                  double precision NOT NULL DEFAULT 0,
    hav_sum_a2t            double precision NOT NULL DEFAULT 0,   -- Σ a_hv²·T, ISO 5349-1
    wbv_s                  double precision NOT NULL DEFAULT 0,
    wbv_sum_x              double precision NOT NULL DEFAULT 0,   -- Σ a_w²·T per axis, ISO 2631-1
    wbv_sum_y              double precision NOT NULL DEFAULT 0,
    wbv_sum_z              double precision NOT NULL DEFAULT 0,
    wbgt_max_c             real,
    heat_s_over_ref        double precision NOT NULL DEFAULT 0,
    temp_ge_30_s           double precision NOT NULL DEFAULT 0,
    temp_le_5_s            double precision NOT NULL DEFAULT 0,
    wbgt_measured_s        double precision NOT NULL DEFAULT 0,
    wbgt_estimated_s       double precision NOT NULL DEFAULT 0,
    psi_max                real,
    core_temp_max_c        real,
    psi_dirty              boolean NOT NULL DEFAULT false,
    lifts                  integer NOT NULL DEFAULT 0,
    lifts_ge_15kg          integer NOT NULL DEFAULT 0,
    lifts_ge_25kg          integer NOT NULL DEFAULT 0,
    tonnage_kg             double precision NOT NULL DEFAULT 0,
    avoided_kg             double precision NOT NULL DEFAULT 0,
    night_s                double precision NOT NULL DEFAULT 0,
    device_ids             text[] NOT NULL DEFAULT '{}',
    tool_ids               text[] NOT NULL DEFAULT '{}',
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, day)
);
CREATE INDEX exposure_days_day ON exposure_days (day);
CREATE INDEX exposure_days_psi_dirty ON exposure_days (agent_id, day) WHERE psi_dirty;

-- Per-minute heart-rate sums: the additive input of the (order-dependent) core-temperature filter.
CREATE TABLE hr_minutes (
    agent_id  text NOT NULL,
    minute    timestamptz NOT NULL,
    sum_hr    double precision NOT NULL,
    n         integer NOT NULL,
    PRIMARY KEY (agent_id, minute)
);
