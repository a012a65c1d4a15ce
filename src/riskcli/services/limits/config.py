"""The `[credit.limits]`, `[credit.approval]` and `[book]` settings of riskcli.toml.

Example::

    [credit.limits]
    reasons = ["new business", "seasonal", "collateral received", "risk reduction", "review"]
    decrease_needs_approval = true
    initial_limit_needs_approval = false

    [credit.approval]
    bands = [
      { up_to = 100000, roles = ["analyst", "manager", "admin"] },
      { up_to = 1000000, roles = ["manager", "admin"] },
      { roles = ["admin"] },
    ]

    [book]
    currency = "CNY"

docs/limits.md gives each default and the reason for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskcli.domain.errors import InputError
from riskcli.domain.permissions import ROLES

#: the reason an import gives to the limit requests it creates
IMPORT_REASON = "import"

DEFAULT_REASONS = ["new business", "seasonal", "collateral received", "risk reduction", "review"]


class LimitsConfig(BaseModel):
    """How limits change: the reason codes, and which changes need a second person."""

    model_config = ConfigDict(extra="forbid")
    reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_REASONS), min_length=1)
    decrease_needs_approval: bool = True
    initial_limit_needs_approval: bool = False
    #: a pending request not decided within this many days expires
    pending_days: int = Field(default=30, ge=1)
    #: months to the next review by the grade at approval (CREDIT.md: high risk monthly,
    #: medium quarterly, low yearly); a grade not listed (or none) uses `review_months_default`
    review_months: dict[str, int] = Field(
        default_factory=lambda: {"A": 12, "B": 12, "C": 3, "D": 1, "E": 1, "DF": 1}
    )
    review_months_default: int = Field(default=3, ge=1)

    @field_validator("reasons")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v for v in cleaned) or len(set(cleaned)) != len(cleaned):
            raise ValueError("reasons must be distinct, non-blank texts")
        return cleaned


class Band(BaseModel):
    """Amounts up to `up_to` (inclusive; no `up_to`: any amount) may be approved by `roles`."""

    model_config = ConfigDict(extra="forbid")
    up_to: Decimal | None = Field(default=None, ge=0)
    roles: list[str] = Field(min_length=1)

    @field_validator("roles")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in ROLES]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)} (roles: {', '.join(ROLES)})")
        return value


DEFAULT_BANDS = [
    Band(up_to=Decimal("100000"), roles=["analyst", "manager", "admin"]),
    Band(up_to=Decimal("1000000"), roles=["manager", "admin"]),
    Band(roles=["admin"]),
]


class ApprovalConfig(BaseModel):
    """Approval authority by amount: the first band whose `up_to` covers the amount decides."""

    model_config = ConfigDict(extra="forbid")
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS), min_length=1)

    @field_validator("bands")
    @classmethod
    def _ascending(cls, value: list[Band]) -> list[Band]:
        tops = [b.up_to for b in value]
        if any(t is None for t in tops[:-1]):
            raise ValueError("only the last band may leave out up_to")
        bounded = [t for t in tops if t is not None]
        if bounded != sorted(bounded) or len(set(bounded)) != len(bounded):
            raise ValueError("bands must be in ascending order of up_to")
        return value

    def band_for(self, amount: Decimal) -> Band | None:
        """The band covering `amount` (None: above every band, so nobody may approve it)."""
        for band in self.bands:
            if band.up_to is None or amount <= band.up_to:
                return band
        return None

    def may_approve(self, role: str, amount: Decimal) -> bool:
        band = self.band_for(amount)
        return band is not None and role in band.roles

    def authority(self, role: str) -> Decimal | None:
        """The largest amount `role` may approve (None: no limit); Decimal(-1) when none."""
        top: Decimal | None = Decimal(-1)
        for band in self.bands:
            if role in band.roles:
                top = band.up_to
            if band.up_to is None:
                break
        return top


class BookConfig(BaseModel):
    """The book currency: every stored amount is in it."""

    model_config = ConfigDict(extra="forbid")
    currency: str = "CNY"

    @field_validator("currency")
    @classmethod
    def _code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError("currency must be a three-letter ISO 4217 code, e.g. CNY")
        return code


def _table(config: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = config
    for name in path:
        node = node.get(name, {}) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            raise InputError(f"config section [{'.'.join(path)}] must be a table")
    return dict(node)


def _load(model: type[Any], config: dict[str, Any] | None, *path: str) -> Any:
    try:
        return model.model_validate(_table(config or {}, *path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(f"config [{'.'.join(path)}] {where}: {msg}") from None


def limits_config(config: dict[str, Any] | None) -> LimitsConfig:
    result: LimitsConfig = _load(LimitsConfig, config, "credit", "limits")
    return result


def approval_config(config: dict[str, Any] | None) -> ApprovalConfig:
    result: ApprovalConfig = _load(ApprovalConfig, config, "credit", "approval")
    return result


def book_config(config: dict[str, Any] | None) -> BookConfig:
    result: BookConfig = _load(BookConfig, config, "book")
    return result
