"""Typed errors. The CLI boundary turns each into `Error: <message>` and its exit code.

Messages are one line and never carry a secret or the PII of a row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class RiskError(Exception):
    """Base of every error a user can cause. Exit code 1: bad input or a failed operation."""

    exit_code = 1


class InputError(RiskError):
    """Bad input or a failed operation (exit 1)."""

    exit_code = 1


class UsageError(RiskError):
    """The command was called wrongly (exit 2)."""

    exit_code = 2


class AccessError(RiskError):
    """No or wrong passphrase, unknown user, or the role denies the action (exit 3)."""

    exit_code = 3


class IntegrityError(RiskError):
    """A verification found damage or tampering (exit 4)."""

    exit_code = 4


class AlertsFound(RiskError):
    """Monitoring found alerts at or above --fail-on (exit 10)."""

    exit_code = 10


class StoreBusy(InputError):
    """Another process holds a lock the command needs (exit 1)."""


def invalid(what: str, exc: ValidationError, default: str = "") -> InputError:
    """A pydantic ValidationError as one line naming its first failing key:
    `config [scoring] limits.max_limit: Input should be ...`."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or default
    return InputError(f"{what} {where}: {first['msg']}")
