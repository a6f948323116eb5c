"""The one permission check every view asks: which communities an account may see and change.

A street-office account sees the communities whose project names its street office, a
district account its district's communities, the city and the administrator every community.
Whatever is out of scope does not exist for the account: views answer 404, not 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from generator.data.loader import DataSet
from generator.data.models import Community
from generator.web.accounts import User

Action = Literal["view", "edit"]
Capability = Literal["review", "read-reviews", "print", "upload-forms", "admin", "security", "audit"]

EDITORS = frozenset({"street", "district", "admin"})
"""Roles that may change project data in scope; the city reviews and downloads."""


def in_scope(user: User, data: DataSet, community_id: str, offices: Mapping[str, str] | None = None) -> bool:
    """Whether the community is one the account may know of at all (offices: each project's street office)."""
    community = data.communities.get(community_id)
    if community is None or community.status != "planned" or not user.role:
        return False  # the three administrators see project data only through a business role of their own
    if user.role in ("city", "admin"):
        return True
    if user.role == "district":
        return community.district == user.unit
    if offices is not None:
        return offices.get(community_id) == user.unit
    project = data.projects.get(community_id)
    return project is not None and project.street_office == user.unit


def allowed(user: User, action: Action, data: DataSet, community_id: str,
            offices: Mapping[str, str] | None = None) -> bool:
    """The check every view asks before it shows or changes a community's records."""
    if user.disabled or not in_scope(user, data, community_id, offices):
        return False
    return action == "view" or user.role in EDITORS


def visible(user: User, data: DataSet, offices: Mapping[str, str] | None = None) -> list[Community]:
    """The communities the account may see, in plan order."""
    return [c for c in data.active_communities() if allowed(user, "view", data, c.id, offices)]


CAPABILITIES: dict[str, frozenset[str]] = {
    "review": frozenset({"district"}),  # record 通过/退回 on a plan or notice in scope
    "read-reviews": frozenset({"district", "city", "admin"}),  # the review list, documents under review
    "print": frozenset({"district", "city", "admin"}),  # bound print files; a district of its own only
    "upload-forms": EDITORS,  # many 填报表 at once, each for a community the account may change
}
"""What each business role may do beyond seeing and changing communities in scope."""

DUTY_CAPABILITIES: dict[str, str] = {
    "admin": "sysadmin",  # accounts and units
    "security": "secadmin",  # security settings, unlocks
    "audit": "auditor",  # reads and exports the audit log, nothing else
}
"""What only one of the three administrators may do, whatever the account's business role."""


def may(user: User, capability: Capability) -> bool:
    """Whether the account's role or duty has a capability (the community, if any, is checked by allowed())."""
    if user.disabled:
        return False
    if capability in DUTY_CAPABILITIES:
        return user.duty == DUTY_CAPABILITIES[capability]
    return user.role in CAPABILITIES[capability]


PROGRAMME_ROLES = frozenset({"city", "admin"})
"""Roles that see the whole programme: its figures, the city's papers, the annual plan."""


def districts_of(user: User, data: DataSet) -> list[str]:
    """The districts whose figures and reports the account may see (none for a street office)."""
    if user.disabled:
        return []
    if user.role in PROGRAMME_ROLES:
        return list(data.districts)
    if user.role == "district" and user.unit in data.districts:
        return [user.unit]
    return []


def whole_programme(user: User) -> bool:
    """Whether the account may see the city's papers and replace the annual plan."""
    return not user.disabled and user.role in PROGRAMME_ROLES
