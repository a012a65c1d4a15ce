"""The one permission table: which role may do which action.

Actions are `<area>.<verb>`. A pattern ending in `.*` covers every verb of that area, `*` all.
`render_markdown()` writes the table docs/users-audit.md shows (a test keeps the two in step).
"""

from __future__ import annotations

from enum import StrEnum
from fnmatch import fnmatchcase


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    VIEWER = "viewer"
    OPERATOR = "operator"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

#: role -> action patterns it may perform
PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("*",),
    # a credit manager: an analyst's work plus approval of larger limits ([credit.approval])
    Role.MANAGER: (
        "status.read",
        "account.passwd",
        "customers.read",
        "customers.export",
        "import.*",
        "tier.*",
        "score.*",
        "monitor.read",
        "monitor.handle",
        "report.read",
        "report.customer",
        "pii.reveal",
        "limits.*",
        "drill.*",
        "receivables.read",
        "receivables.recover",
    ),
    Role.ANALYST: (
        "status.read",
        "account.passwd",
        "customers.read",
        "customers.export",
        "import.*",
        "tier.*",
        "score.*",
        "monitor.read",
        "monitor.handle",
        "monitor.assign",
        "customers.review",
        "report.read",
        "report.customer",
        "pii.reveal",
        "limits.*",
        "drill.*",
        "receivables.read",
        "receivables.recover",
    ),
    Role.OPERATOR: (
        "status.read",
        "account.passwd",
        "monitor.*",
        "backup.*",
        "tier.run",
        "score.run",
        "doctor.run",
        "limits.expire",
        "drill.*",
    ),
    Role.AUDITOR: (
        "status.read",
        "account.passwd",
        "audit.*",
        "report.read",
        "monitor.read",
        "backup.read",
        "users.read",
        "doctor.run",
        "customers.retention",
        "import.read",
        "limits.read",
        "drill.*",
        "receivables.read",
    ),
    Role.VIEWER: (
        "status.read",
        "account.passwd",
        "customers.read",
        "tier.read",
        "score.read",
        "monitor.read",
        "report.read",
        "report.customer",
        "limits.read",
        "drill.*",
        "receivables.read",
    ),
}

#: every action a command checks, with what it covers (the guide table's rows)
ACTIONS: dict[str, str] = {
    "status.read": "`status`",
    "account.passwd": "`user passwd` (own passphrase)",
    "customers.read": "list and show customers (masked)",
    "pii.reveal": "`--reveal` of phone, email, national id",
    "customers.export": "export customer data",
    "import.write": "`import`",
    "import.read": "`import history`",
    "tier.run": "`tier run`",
    "tier.read": "read tiers",
    "score.train": "`score train`",
    "score.run": "`score run`",
    "score.read": "read scores",
    "monitor.run": "`monitor run`",
    "monitor.read": "read monitoring runs and alerts",
    "monitor.handle": "acknowledge, resolve alerts",
    "monitor.assign": "`monitor assign`: give alerts to people",
    "backup.create": "`backup create`, drills",
    "backup.read": "list and verify backups",
    "restore.run": "`restore`",
    "report.read": "`report portfolio` (and `report audit` with `audit.read`)",
    "report.customer": "`report customer`: one customer's profile (never for auditors)",
    "audit.read": "`audit log`, `audit report`",
    "audit.verify": "`audit verify`",
    "audit.exposure": "`audit exposure`: whose personal data a user revealed or exported",
    "drill.run": "`drill start/step/finish`, `tutorial` (on a sandbox; only the record is kept)",
    "drill.read": "`drill list/show`, `report drills`",
    "doctor.run": "`doctor`",
    "users.read": "`user list`",
    "users.admin": "`user add/remove/role`, another user's `passwd`",
    "key.rotate": "`key rotate`",
    "customers.erase": "`customers erase`",
    "customers.hold": "`customers hold/unhold`",
    "customers.retention": "`customers retention`, `customers holds`",
    "limits.read": "`limits list/show`, `customers groups`",
    "limits.request": "`limits request` (a new limit, for approval)",
    "limits.expire": "`limits expire` (cron: temporary limits past their date fall back)",
    "limits.approve": "`limits approve/reject`: another user's request, within `[credit.approval]`",
    "customers.review": "`customers review`: record a credit review",
    "receivables.read": "`receivables list`",
    "receivables.write_off": "`receivables write-off` (finance authority: admin only)",
    "receivables.recover": "`receivables recover`",
}


def allowed(role: str, action: str) -> bool:
    """True when `role` may perform `action`."""
    try:
        patterns = PERMISSIONS[Role(role)]
    except ValueError:
        return False
    return any(fnmatchcase(action, p) for p in patterns)


def render_markdown() -> str:
    """The permission table as Markdown: one row per action, one column per role."""
    roles = list(Role)
    lines = [
        "| action | what | " + " | ".join(r.value for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for action, what in ACTIONS.items():
        marks = " | ".join("yes" if allowed(r, action) else "—" for r in roles)
        lines.append(f"| `{action}` | {what} | {marks} |")
    return "\n".join(lines) + "\n"
