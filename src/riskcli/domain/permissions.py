"""The one permission table: which role may do which action.

Actions are `<area>.<verb>`. A pattern ending in `.*` covers every verb of that area, `*` all.
"""

from __future__ import annotations

from enum import StrEnum
from fnmatch import fnmatchcase


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    VIEWER = "viewer"
    OPERATOR = "operator"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

#: role -> action patterns it may perform
PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("*",),
    Role.ANALYST: (
        "status.read",
        "customers.read",
        "customers.export",
        "import.*",
        "tier.*",
        "score.*",
        "monitor.read",
        "monitor.handle",
        "report.read",
        "pii.reveal",
    ),
    Role.OPERATOR: (
        "status.read",
        "monitor.*",
        "backup.*",
        "tier.run",
        "score.run",
    ),
    Role.AUDITOR: (
        "status.read",
        "audit.*",
        "report.read",
        "monitor.read",
        "backup.read",
    ),
    Role.VIEWER: (
        "status.read",
        "customers.read",
        "tier.read",
        "score.read",
        "monitor.read",
        "report.read",
    ),
}


def allowed(role: str, action: str) -> bool:
    """True when `role` may perform `action`."""
    try:
        patterns = PERMISSIONS[Role(role)]
    except ValueError:
        return False
    return any(fnmatchcase(action, p) for p in patterns)
