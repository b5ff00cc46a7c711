-- Access control (services/access.py): people who log in, machine API keys, and the audit log of reads of
-- health and location data (GDPR art. 5(2) accountability; CNIL: traceability of access to health data).
CREATE TABLE users (
    username      text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    password_hash text NOT NULL,                       -- argon2id
    role          text NOT NULL CHECK (role IN ('admin', 'supervisor', 'safety_officer', 'agent')),
    crew_ids      text[] NOT NULL DEFAULT '{}',        -- a supervisor's crews
    agent_id      text REFERENCES agents (agent_id),   -- an agent's own record
    names_allowed boolean NOT NULL DEFAULT false,      -- a safety officer authorised to see names
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'agent' OR agent_id IS NOT NULL)
);

CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    secret_hash bytea NOT NULL,                        -- sha256 of a 256-bit random secret
    role        text NOT NULL CHECK (role IN ('admin', 'supervisor', 'safety_officer', 'agent', 'device', 'robot')),
    label       text NOT NULL DEFAULT '',
    crew_ids    text[] NOT NULL DEFAULT '{}',
    agent_id    text,
    subject_id  text,                                  -- the device or robot id of a machine key
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    role      text NOT NULL,
    action    text NOT NULL,                           -- e.g. "GET /api/v1/agents/{agent_id}/exposure"
    target    text,                                    -- the agent, crew or report read
    query     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target, at);
