-- Vigie schema v1: the walking skeleton's tables.
-- Apache-edition TimescaleDB only: hypertables, time_bucket and drop_chunks. No compression, continuous
-- aggregates or policies (not in the Apache edition; retention is run by Vigie's own scheduler).

CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE sites (
    site_id   text PRIMARY KEY,
    name      text NOT NULL,
    time_zone text NOT NULL DEFAULT 'Europe/Paris'
);
INSERT INTO sites (site_id, name) VALUES ('paris', 'Ville de Paris');

CREATE TABLE crews (
    crew_id text PRIMARY KEY,
    site_id text NOT NULL REFERENCES sites (site_id),
    name    text NOT NULL
);

CREATE TABLE agents (
    agent_id     text PRIMARY KEY,
    display_name text NOT NULL,
    crew_id      text REFERENCES crews (crew_id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    device_id    text PRIMARY KEY,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    link_status  text CHECK (link_status IN ('online', 'offline')),
    link_at      timestamptz
);

-- A device is worn by one agent at a time: the exclusion constraint makes overlapping assignments
-- impossible, whatever the client does.
CREATE TABLE assignments (
    assignment_id bigserial PRIMARY KEY,
    device_id     text NOT NULL,
    agent_id      text NOT NULL REFERENCES agents (agent_id),
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    EXCLUDE USING gist (device_id WITH =, tstzrange(valid_from, valid_to) WITH &&)
);
CREATE INDEX assignments_agent ON assignments (agent_id, valid_from);

-- Per-second wearable summaries. Idempotency: a redelivered frame has the same (device_id, seq, ts);
-- the unique index must contain the partitioning column on a hypertable.
CREATE TABLE frames (
    ts            timestamptz NOT NULL,
    device_id     text        NOT NULL,
    seq           bigint      NOT NULL,
    agent_id      text,
    received_at   timestamptz NOT NULL,
    late          boolean     NOT NULL DEFAULT false,
    hr_bpm        real,
    skin_temp_c   real,
    laeq_db       real,
    lcpeak_db     real,
    temp_c        real,
    rh_pct        real,
    globe_temp_c  real,
    hav_tool_id   text,
    hav_ahv_ms2   real,
    hav_trigger_s real,
    wbv_aw_ms2    real[],
    wbv_duration_s real,
    lift_count    smallint,
    lift_load_kg  real,
    lat           double precision,
    lon           double precision,
    gps_acc_m     real,
    battery_pct   real,
    sos           boolean     NOT NULL DEFAULT false,
    cancel        boolean     NOT NULL DEFAULT false,
    imu_rate_hz   real,
    imu_n         smallint,
    acc_max_ms2   real,
    acc_min_ms2   real
);
SELECT create_hypertable('frames', 'ts', chunk_time_interval => interval '1 day');
CREATE UNIQUE INDEX frames_identity ON frames (device_id, seq, ts);
CREATE INDEX frames_agent_ts ON frames (agent_id, ts DESC) WHERE agent_id IS NOT NULL;
CREATE INDEX frames_unassigned ON frames (device_id, ts DESC) WHERE agent_id IS NULL;

-- Raw IMU, kept only around events by default (see services/imu_retention.py).
CREATE TABLE imu_raw (
    ts        timestamptz NOT NULL,
    device_id text        NOT NULL,
    seq       bigint      NOT NULL,
    rate_hz   real        NOT NULL,
    acc_ms2   real[]      NOT NULL,  -- n×3 flattened
    gyr_rads  real[]
);
SELECT create_hypertable('imu_raw', 'ts', chunk_time_interval => interval '1 day');
CREATE UNIQUE INDEX imu_raw_identity ON imu_raw (device_id, seq, ts);

CREATE TABLE robots (
    robot_id   text PRIMARY KEY,
    kind       text NOT NULL,
    crew_id    text REFERENCES crews (crew_id),
    first_seen timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE robot_states (
    ts              timestamptz NOT NULL,
    robot_id        text        NOT NULL,
    seq             bigint      NOT NULL,
    received_at     timestamptz NOT NULL,
    late            boolean     NOT NULL DEFAULT false,
    kind            text        NOT NULL,
    x_m             double precision,
    y_m             double precision,
    yaw_rad         real,
    lat             double precision,
    lon             double precision,
    speed_ms        real,
    battery_pct     real,
    mode            text,
    estop           boolean,
    protective_stop boolean,
    nearest_human_m real,
    payload_kg      real,
    faults          text[]
);
SELECT create_hypertable('robot_states', 'ts', chunk_time_interval => interval '1 day');
CREATE UNIQUE INDEX robot_states_identity ON robot_states (robot_id, seq, ts);

-- Latest state per device and per robot, for the live board (upserted per ingest batch).
CREATE TABLE device_latest (
    device_id   text PRIMARY KEY,
    agent_id    text,
    ts          timestamptz NOT NULL,
    seq         bigint NOT NULL,
    received_at timestamptz NOT NULL,
    hr_bpm      real,
    battery_pct real,
    laeq_db     real,
    temp_c      real,
    lat         double precision,
    lon         double precision
);
CREATE INDEX device_latest_agent ON device_latest (agent_id);
CREATE INDEX device_latest_received ON device_latest (received_at);

CREATE TABLE robot_latest (
    robot_id        text PRIMARY KEY,
    ts              timestamptz NOT NULL,
    seq             bigint NOT NULL,
    received_at     timestamptz NOT NULL,
    kind            text NOT NULL,
    x_m             double precision,
    y_m             double precision,
    yaw_rad         real,
    lat             double precision,
    lon             double precision,
    speed_ms        real,
    battery_pct     real,
    mode            text,
    estop           boolean,
    protective_stop boolean,
    nearest_human_m real,
    payload_kg      real,
    faults          text[]
);
CREATE INDEX robot_latest_received ON robot_latest (received_at);

CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    topic           text NOT NULL,
    reason          text NOT NULL,
    detail          text NOT NULL DEFAULT '',
    payload_excerpt text NOT NULL,
    payload_bytes   integer NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);

CREATE TABLE alerts (
    alert_id           uuid PRIMARY KEY,
    rule               text NOT NULL,
    severity           text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    status             text NOT NULL CHECK (status IN ('raised', 'acknowledged', 'resolved')),
    subject_type       text NOT NULL CHECK (subject_type IN ('agent', 'device', 'robot')),
    subject_id         text NOT NULL,
    agent_id           text,
    device_id          text,
    robot_id           text,
    message            text NOT NULL,
    raised_at          timestamptz NOT NULL,
    source_ts          timestamptz NOT NULL,
    last_seen_ts       timestamptz NOT NULL,
    late               boolean NOT NULL DEFAULT false,
    repeat_count       integer NOT NULL DEFAULT 1,
    escalation_level   integer NOT NULL DEFAULT 0,
    acknowledged_by    text,
    acknowledged_at    timestamptz,
    resolved_by        text,
    resolved_at        timestamptz,
    resolution         text CHECK (resolution IN ('real_incident', 'false_alarm', 'help_dispatched', 'test')),
    resolution_comment text
);
-- Deduplication per (subject, rule) while open, enforced by the database.
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (subject_type, subject_id, rule) WHERE status <> 'resolved';
CREATE INDEX alerts_raised ON alerts (raised_at DESC);
CREATE INDEX alerts_agent ON alerts (agent_id, raised_at DESC);

-- Audit trail of every alert state change.
CREATE TABLE alert_events (
    id       bigserial PRIMARY KEY,
    alert_id uuid NOT NULL REFERENCES alerts (alert_id),
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    action   text NOT NULL,
    details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
