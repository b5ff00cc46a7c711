-- Accident-risk rule thresholds per site, overridden per crew (services/detection/config.py names).
CREATE TABLE rule_overrides (
    scope_type text NOT NULL CHECK (scope_type IN ('site', 'crew')),
    scope_id   text NOT NULL,
    overrides  jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope_type, scope_id)
);
