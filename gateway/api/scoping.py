"""Lists and reports as a principal may see them (services/access.py applied to API responses).

The route guard (gateway/api/security.py) already refused requests naming something out of scope; these
helpers filter the lists a route returns and pseudonymise agents for safety officers not authorised for names
(their id and their name both become the keyed pseudonym, GDPR art. 4(5)).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.access import Principal, crew_filter, may_see_agent, pseudonym


def agents(items: Iterable[dict[str, Any]], principal: Principal, key: bytes,
           name_field: str = "display_name") -> list[dict[str, Any]]:  # fmt: skip
    """Agent records (or per-agent rows) the principal may see, pseudonymised when they may not see names."""
    return [pseudonymise(item, principal, key, name_field) for item in items
            if may_see_agent(principal, item["agent_id"], item.get("crew_id"))]  # fmt: skip


def pseudonymise(item: dict[str, Any], principal: Principal, key: bytes, name_field: str) -> dict[str, Any]:
    if principal.sees_names or not item.get("agent_id"):
        return item
    alias = pseudonym(item["agent_id"], key)
    return {**item, "agent_id": alias, name_field: alias}


def by_crew(items: Iterable[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
    """Crew-level records (crews, robots) in the principal's crews."""
    crews = crew_filter(principal)
    return [item for item in items if crews is None or item.get("crew_id") in crews]
