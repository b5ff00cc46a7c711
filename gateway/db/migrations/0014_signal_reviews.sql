-- The follow-up of flagged weak signals (services/signals/review.py): one review per flag, a flag being a signal
-- (kind, subject) and the day it was first flagged. Rewriting a review replaces it; every write is in the audit
-- log (gateway/api/security.py), which keeps the earlier versions' who and when. Kept like the alerts: it is
-- the record of what the prevention side did.
CREATE TABLE signal_reviews (
    kind          text        NOT NULL,
    subject_kind  text        NOT NULL CHECK (subject_kind IN ('agent', 'crew', 'site', 'robot')),
    subject_id    text        NOT NULL,
    first_flagged date        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('action', 'watch', 'explained')),
    note          text        NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    reviewed_by   text        NOT NULL,
    reviewed_at   timestamptz NOT NULL,
    PRIMARY KEY (kind, subject_kind, subject_id, first_flagged)
);
