-- The full alert lifecycle: the site an alert belongs to (for its escalation chain), the condition
-- clearing (hysteresis: a human still resolves), rule details, the linked robot of a joint incident,
-- escalation chains with every notification recorded, and an outbox for messages to robots and notifiers.

ALTER TABLE alerts
    ADD COLUMN site_id text NOT NULL DEFAULT 'paris',
    ADD COLUMN cleared_at timestamptz,
    ADD COLUMN details jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN robot_state jsonb,
    ADD COLUMN escalated_at timestamptz;
CREATE INDEX alerts_escalation_due ON alerts (raised_at) WHERE status = 'raised';

-- Escalation chain per site: level N is notified when the alert is still unacknowledged `after_s` after
-- it was raised (for example crew supervisor → site manager → safety officer).
CREATE TABLE escalation_levels (
    site_id     text NOT NULL REFERENCES sites (site_id),
    level       integer NOT NULL CHECK (level >= 1),
    after_s     integer NOT NULL CHECK (after_s > 0),
    target      text NOT NULL,
    webhook_url text,
    PRIMARY KEY (site_id, level)
);
INSERT INTO escalation_levels (site_id, level, after_s, target) VALUES
    ('paris', 1, 120, 'site manager'),
    ('paris', 2, 300, 'safety officer');

CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    alert_id   uuid NOT NULL REFERENCES alerts (alert_id),
    level      integer NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('mqtt', 'webhook')),
    target     text NOT NULL,
    body       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    response   text
);
CREATE INDEX notifications_alert ON notifications (alert_id, created_at);

-- Transactional outbox: written in the same transaction as the state change that causes it, published
-- by whichever process holds the MQTT connection, at least once, in order.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    topic      text NOT NULL,
    payload    jsonb NOT NULL,
    notification_id bigint REFERENCES notifications (id),
    sent_at    timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
