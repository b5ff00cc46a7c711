-- Weak signals (issue 9): the people named per site who may read individual signals (besides the agent
-- themself). Everyone else sees crew, site and robot signals only, as their role allows (services/access.py).
CREATE TABLE signal_readers (
    site_id  text NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, username)
);
CREATE INDEX signal_readers_username ON signal_readers (username);
