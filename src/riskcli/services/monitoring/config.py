"""The `[monitoring]` section of riskcli.toml: one table per rule, each with `enabled`.

Every default below is documented in docs/configuration.md (rules: docs/monitoring.md). Example::

    [monitoring.exposure_limit]
    utilisation_pct = 85

    [monitoring.behaviour_anomaly]
    enabled = false
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from riskcli.domain.errors import InputError


class RuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


class PaymentOverdueConfig(RuleConfig):
    """An invoice past due; severity steps up as it crosses each threshold (days)."""

    thresholds: list[int] = Field(default=[1, 31, 61, 91], min_length=4, max_length=4)
    min_outstanding: Decimal = Decimal("0.01")

    @field_validator("thresholds")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if value != sorted(value) or value[0] < 1:
            raise ValueError("thresholds must be ascending day counts >= 1")
        return value


class OverdueGrowthConfig(RuleConfig):
    """The overdue balance now vs `window_days` ago."""

    window_days: int = Field(default=30, ge=1)
    min_growth_pct: float = Field(default=25.0, gt=0)
    min_increase: Decimal = Decimal("1000")


class PartialPaymentsConfig(RuleConfig):
    """Invoices issued in the last `lookback_days` that were paid only in part."""

    lookback_days: int = Field(default=180, ge=1)
    min_count: int = Field(default=3, ge=2)


class ExposureLimitConfig(RuleConfig):
    """Outstanding receivables against the credit limit."""

    utilisation_pct: float = Field(default=90.0, gt=0)
    critical_pct: float = Field(default=150.0, gt=100)


class ScoreChangeConfig(RuleConfig):
    """A grade downgrade or a score drop since the previous score run."""

    score_drop: float = Field(default=30.0, gt=0)
    #: grades from best to worst; a grade not listed is compared by score only
    grade_order: list[str] = Field(default=["A", "B", "C", "D", "E"])


class ScoreLimitConfig(RuleConfig):
    """The latest recommended limit is below the customer's current credit limit."""

    min_gap_pct: float = Field(default=0.0, ge=0)


class AdverseFlagConfig(RuleConfig):
    """An adverse flag in the latest credit report, severity per flag."""

    severities: dict[str, str] = Field(
        default={
            "bankruptcy": "critical",
            "dishonest_debtor": "high",
            "lawsuit": "medium",
            "tax_violation": "medium",
        }
    )


class BureauDropConfig(RuleConfig):
    """The bureau score fell by at least `drop_points` between the last two reports."""

    drop_points: float = Field(default=50.0, gt=0)


class AnomalyConfig(RuleConfig):
    """A recent transaction far from the customer's own history (robust z on log amount)."""

    window_days: int = Field(default=30, ge=1)
    threshold: float = Field(default=3.5, gt=0)
    min_history: int = Field(default=8, ge=3)
    kinds: list[str] = Field(default=["order", "refund"])


class ChurnConfig(RuleConfig):
    """Order volume of a top-tier customer in the last window vs the window before."""

    tiers: list[str] = Field(default=["A", "B"])
    window_days: int = Field(default=90, ge=7)
    drop_pct: float = Field(default=50.0, gt=0, le=100)
    min_previous: Decimal = Decimal("1000")


class NoContactConfig(RuleConfig):
    """No recorded interaction with a top-tier customer for `days` days."""

    tiers: list[str] = Field(default=["A", "B"])
    days: int = Field(default=90, ge=1)


class ComplaintConfig(RuleConfig):
    """A complaint recorded in the last `window_days`."""

    window_days: int = Field(default=30, ge=1)


class SatisfactionConfig(RuleConfig):
    """A satisfaction rating at or below `max_score` in the last `window_days`."""

    window_days: int = Field(default=30, ge=1)
    max_score: int = Field(default=2, ge=1, le=4)


class ContractExpiringConfig(RuleConfig):
    """An active contract ending within `days`; `urgent_days` raises the severity."""

    days: int = Field(default=30, ge=1)
    urgent_days: int = Field(default=7, ge=0)


class UncoveredBusinessConfig(RuleConfig):
    """Orders in the last `window_days` with no active contract, only expired/terminated ones."""

    window_days: int = Field(default=30, ge=1)


class ScorePsiConfig(RuleConfig):
    """Score distribution drift vs the champion model's development sample."""

    warn: float = Field(default=0.1, gt=0)
    alert: float = Field(default=0.25, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScorePsiConfig:
        if self.alert < self.warn:
            raise ValueError("alert must be >= warn")
        return self


class ConcentrationConfig(RuleConfig):
    """Share of total outstanding exposure held by one industry or region."""

    dimensions: list[str] = Field(default=["industry", "region"])
    max_share_pct: float = Field(default=35.0, gt=0, le=100)
    min_customers: int = Field(default=10, ge=1)


class MonitoringConfig(BaseModel):
    """The whole `[monitoring]` section: `cache_mb`, then one table per rule (named by its id)."""

    model_config = ConfigDict(extra="forbid")

    #: SQLite page cache for the run, MiB: decrypting a page costs more than reading it, so a
    #: run keeps what it decrypted (the store's own setting is restored afterwards)
    cache_mb: int = Field(default=1024, ge=2, le=65536)

    payment_overdue: PaymentOverdueConfig = PaymentOverdueConfig()
    payment_overdue_growth: OverdueGrowthConfig = OverdueGrowthConfig()
    payment_partial: PartialPaymentsConfig = PartialPaymentsConfig()
    exposure_limit: ExposureLimitConfig = ExposureLimitConfig()
    score_change: ScoreChangeConfig = ScoreChangeConfig()
    score_limit: ScoreLimitConfig = ScoreLimitConfig()
    thirdparty_adverse_flag: AdverseFlagConfig = AdverseFlagConfig()
    thirdparty_bureau_drop: BureauDropConfig = BureauDropConfig()
    behaviour_anomaly: AnomalyConfig = AnomalyConfig()
    behaviour_churn: ChurnConfig = ChurnConfig()
    relationship_no_contact: NoContactConfig = NoContactConfig()
    relationship_complaint: ComplaintConfig = ComplaintConfig()
    relationship_satisfaction: SatisfactionConfig = SatisfactionConfig()
    contract_expiring: ContractExpiringConfig = ContractExpiringConfig()
    contract_uncovered_business: UncoveredBusinessConfig = UncoveredBusinessConfig()
    portfolio_score_psi: ScorePsiConfig = ScorePsiConfig()
    portfolio_concentration: ConcentrationConfig = ConcentrationConfig()

    def rule(self, rule_id: str) -> RuleConfig:
        value = getattr(self, rule_id)
        assert isinstance(value, RuleConfig)
        return value


def load_monitoring_config(cfg: dict[str, Any] | None) -> MonitoringConfig:
    """Validate the `[monitoring]` section of a loaded config dict; bad values are exit 1."""
    from pydantic import ValidationError

    section = (cfg or {}).get("monitoring", {})
    try:
        return MonitoringConfig.model_validate(section)
    except ValidationError as exc:
        problems = "; ".join(
            f"monitoring.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise InputError(f"invalid [monitoring] config: {problems}") from None


__all__ = ["MonitoringConfig", "RuleConfig", "_cents", "load_monitoring_config"]
