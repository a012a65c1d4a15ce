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


class MoneyRuleConfig(RuleConfig):
    """A rule about money: amounts below `min_amount` (CNY) never raise an alert."""

    min_amount: Decimal = Field(default=Decimal("1000"), ge=0)


class ExposureGatedConfig(MoneyRuleConfig):
    """A rule that is not about an amount: it raises a case only for a customer whose
    exposure is `min_amount` or more (without money at risk it is not a credit case)."""


class PaymentOverdueConfig(MoneyRuleConfig):
    """A customer's overdue invoices, one case; its stage (1-4) steps up at each threshold
    (days past due of the oldest one) and escalates the case."""

    thresholds: list[int] = Field(default=[1, 31, 61, 91], min_length=4, max_length=4)

    @field_validator("thresholds")
    @classmethod
    def _ascending(cls, value: list[int]) -> list[int]:
        if value != sorted(value) or value[0] < 1:
            raise ValueError("thresholds must be ascending day counts >= 1")
        return value


class DefaultCaseConfig(RuleConfig):
    """A customer in default ([credit.default]); warns `limitation_warning_months` after the
    oldest open due date that the 3-year limitation period is near."""

    limitation_warning_months: int = Field(default=30, ge=1, le=36)


class OverdueGrowthConfig(MoneyRuleConfig):
    """The overdue balance now vs `window_days` ago (the increase must reach `min_amount`)."""

    window_days: int = Field(default=30, ge=1)
    min_growth_pct: float = Field(default=25.0, gt=0)


class PartialPaymentsConfig(MoneyRuleConfig):
    """Invoices issued in the last `lookback_days` that were paid only in part."""

    lookback_days: int = Field(default=180, ge=1)
    min_count: int = Field(default=3, ge=2)


class ExposureLimitConfig(MoneyRuleConfig):
    """Outstanding receivables against the credit limit."""

    #: 110: a 10% excess tolerance (payments in transit, orders already in the pipeline)
    utilisation_pct: float = Field(default=110.0, gt=0)
    critical_pct: float = Field(default=150.0, gt=100)


class ScoreChangeConfig(RuleConfig):
    """Since the previous run of the same model: a move into `watch_grade` or worse, a drop of
    `grade_steps` grades or more, or a score drop of `pdo_multiple` x the model's PDO."""

    #: grades from best to worst; a grade not listed is compared by score only
    grade_order: list[str] = Field(default=["A", "B", "C", "D", "E", "DF"])
    watch_grade: str = "C"
    grade_steps: int = Field(default=2, ge=1)
    pdo_multiple: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _known_grade(self) -> ScoreChangeConfig:
        if self.watch_grade not in self.grade_order:
            raise ValueError("watch_grade must be one of grade_order")
        return self


class ScoreLimitConfig(MoneyRuleConfig):
    """Exposure above the recommended limit by `min_amount` or more, or a grade in `grades`."""

    grades: list[str] = Field(default=["D", "E"])
    #: the excess must also be this share of the recommended limit (as the default's
    #: materiality: an absolute and a relative floor)
    min_share_pct: float = Field(default=10.0, ge=0)


class AdverseFlagConfig(MoneyRuleConfig):
    """An adverse flag in the latest credit report, severity per flag; a flag in
    `appear_only` needs an exposure of `min_amount` or more."""

    severities: dict[str, str] = Field(
        default={
            "bankruptcy": "critical",
            "dishonest_debtor": "high",
            "lawsuit": "medium",
            "tax_violation": "medium",
        }
    )
    #: flags that raise a case only when they appear (absent from the provider's previous
    #: report): the score already prices a standing lawsuit or tax record
    appear_only: list[str] = Field(default=["lawsuit", "tax_violation"])
    #: ... in a report dated within this many days (older news was priced by a re-score since)
    appear_days: int = Field(default=90, ge=1)


class BureauDropConfig(ExposureGatedConfig):
    """The bureau score fell by at least `drop_points` between the last two reports."""

    drop_points: float = Field(default=50.0, gt=0)


class AnomalyConfig(ExposureGatedConfig):
    """A recent transaction far from the customer's own history (robust z on log amount)."""

    window_days: int = Field(default=30, ge=1)
    threshold: float = Field(default=3.5, gt=0)
    min_history: int = Field(default=8, ge=3)
    kinds: list[str] = Field(default=["order", "refund"])


class ChurnConfig(ExposureGatedConfig):
    """Order volume of a top-tier customer in the last window vs the window before (the
    window before, and the customer's exposure, must reach `min_amount`)."""

    tiers: list[str] = Field(default=["A"])
    window_days: int = Field(default=90, ge=7)
    drop_pct: float = Field(default=50.0, gt=0, le=100)


class NoContactConfig(ExposureGatedConfig):
    """No recorded interaction with a top-tier customer for `days` days."""

    tiers: list[str] = Field(default=["A"])
    days: int = Field(default=365, ge=1)


class ComplaintConfig(ExposureGatedConfig):
    """A complaint recorded in the last `window_days`."""

    window_days: int = Field(default=30, ge=1)


class SatisfactionConfig(ExposureGatedConfig):
    """A satisfaction rating at or below `max_score` in the last `window_days`."""

    window_days: int = Field(default=30, ge=1)
    max_score: int = Field(default=2, ge=1, le=4)


class ContractExpiringConfig(RuleConfig):
    """An active contract ending within `days`; `urgent_days` raises the severity. Off by
    default: a renewal is sales administration (`riskcli contracts list` shows them)."""

    enabled: bool = False

    days: int = Field(default=30, ge=1)
    urgent_days: int = Field(default=7, ge=0)


class UncoveredBusinessConfig(RuleConfig):
    """Orders in the last `window_days` with no active contract, only expired/terminated ones.
    Off by default: it fires for most customers of a book whose contracts lapse while trade
    goes on; turn it on where the credit team owns the contracts."""

    enabled: bool = False

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
    """Share of total outstanding exposure held by one industry or region, by the largest
    customer, or by the ten largest."""

    dimensions: list[str] = Field(default=["industry", "region"])
    max_share_pct: float = Field(default=35.0, gt=0, le=100)
    min_customers: int = Field(default=10, ge=1)
    single_name_pct: float = Field(default=5.0, gt=0, le=100)
    top10_pct: float = Field(default=25.0, gt=0, le=100)


class PriorityConfig(BaseModel):
    """Money at risk of an alert without a score: overdue x the factor of its stage (1-4)."""

    model_config = ConfigDict(extra="forbid")
    stage_factors: list[float] = Field(default=[0.05, 0.15, 0.30, 0.50], min_length=4, max_length=4)

    @field_validator("stage_factors")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if any(not 0 <= v <= 1 for v in value):
            raise ValueError("stage factors must be within 0-1")
        return value


class ReviewsConfig(BaseModel):
    """Credit review cadence in months per grade, and the first review of a new customer."""

    model_config = ConfigDict(extra="forbid")
    months: dict[str, int] = Field(default={"A": 12, "B": 12, "C": 3, "D": 1, "E": 1, "DF": 1})
    new_customer_months: int = Field(default=3, ge=1)
    #: a customer without a score is reviewed like this grade
    unscored_grade: str = "C"

    @field_validator("months")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 1 for v in value.values()):
            raise ValueError("review cadence must be at least 1 month")
        return value


class MonitoringConfig(BaseModel):
    """The whole `[monitoring]` section: `cache_mb`, then one table per rule (named by its id)."""

    model_config = ConfigDict(extra="forbid")

    #: SQLite page cache for the run, MiB: decrypting a page costs more than reading it, so a
    #: run keeps what it decrypted (the store's own setting is restored afterwards)
    cache_mb: int = Field(default=1024, ge=2, le=65536)

    priority: PriorityConfig = PriorityConfig()
    reviews: ReviewsConfig = ReviewsConfig()

    default: DefaultCaseConfig = DefaultCaseConfig()
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


__all__ = [
    "ExposureGatedConfig",
    "MoneyRuleConfig",
    "MonitoringConfig",
    "RuleConfig",
    "load_monitoring_config",
]
