"""The thresholds in force: each site's rule settings with its crews' overrides, read from ``rule_overrides``.

The live rules (``gateway.alerting``) and the robots' near-miss roll-up (``robot_days``) read the same settings, so
a protective stop counted in the weak signals is judged at the separation distance the alert was judged at.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from services.detection import ConfigResolver, InvalidRuleConfig, RuleConfig
from services.detection.config import with_overrides

log = logging.getLogger(__name__)


class RuleSettings:
    """Thresholds per site with per-crew overrides, read from ``rule_overrides`` (and refreshed)."""

    def __init__(self) -> None:
        self._resolvers: dict[str, ConfigResolver] = {"paris": ConfigResolver()}
        self._crew_site: dict[str, str] = {}
        self.loaded_at = 0.0

    def load(self, conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute("SELECT scope_type, scope_id, overrides FROM rule_overrides").fetchall()
        crews = conn.execute("SELECT crew_id, site_id FROM crews").fetchall()
        sites = {str(i): dict(o) for t, i, o in rows if t == "site"}
        crew_overrides = {str(i): dict(o) for t, i, o in rows if t == "crew"}
        self._crew_site = {str(c): str(s) for c, s in crews}
        resolvers: dict[str, ConfigResolver] = {}
        for site_id in {*self._crew_site.values(), *sites, "paris"}:
            try:
                base = with_overrides(RuleConfig(), sites.get(site_id, {}))
                mine = {c: o for c, o in crew_overrides.items() if self._crew_site.get(c) == site_id}
                resolvers[site_id] = ConfigResolver(base, mine)
            except InvalidRuleConfig as exc:  # validated by the API; a hand-edited row must not stop ingest
                log.error("ignoring invalid rule settings of site %s: %s", site_id, exc)
                resolvers[site_id] = ConfigResolver()
        self._resolvers = resolvers
        self.loaded_at = time.monotonic()

    def config_for(self, crew_id: str | None) -> RuleConfig:
        site = self._crew_site.get(crew_id or "", "paris")
        return self._resolvers.get(site, self._resolvers["paris"]).config_for(crew_id)
