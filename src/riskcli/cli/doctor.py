"""`riskcli doctor`: the security and resilience self-check."""

from __future__ import annotations

import typer

from riskcli.cli import output
from riskcli.cli.audit import anchor_for
from riskcli.cli.context import session
from riskcli.cli.output import FormatOpt
from riskcli.domain.errors import InputError
from riskcli.services import doctor


def doctor_command(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Check permissions, KDF cost, users, admins, backups, drills, the audit trail,
    secure_delete and integrity: one pass/warn/fail line each, with how to fix it.

    Exits 1 when any check fails.

    Example: riskcli doctor
    """
    with session(ctx, "doctor.run") as s:
        findings = doctor.run(s.store, anchor_for(s), s.config)
        failed = doctor.failed(findings)
        s.audit_affected(failed=failed, count=len(findings))
        output.render(doctor.rows(findings), fmt)
        if failed:
            raise InputError(f"doctor: {failed} check{'s' if failed > 1 else ''} failed")
