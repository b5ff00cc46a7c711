-- MQTT accounts (gateway/mqtt/accounts.py): one per wearable and robot, plus service accounts. Only
-- Mosquitto's $7$ PBKDF2-SHA512 hash is kept; the clear password is shown once, when it is issued.
CREATE TABLE mqtt_accounts (
    username      text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    kind          text NOT NULL CHECK (kind IN ('wearable', 'robot', 'gateway', 'fleet', 'notifier', 'monitor')),
    password_hash text NOT NULL CHECK (password_hash LIKE '$7$%'),
    issued_at     timestamptz NOT NULL DEFAULT now(),
    issued_by     text NOT NULL DEFAULT 'system',
    revoked_at    timestamptz
);
