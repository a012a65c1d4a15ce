"""The rule registry: every rule, the frames it needs, and whether it auto-resolves.

A rule is a pure, vectorised function `(Frames, its config) -> candidate frame`. A rule whose
source frames are absent from the store is skipped and the run summary says why.

Condition rules auto-resolve: when a run no longer finds the condition, the alert is resolved
and the change recorded. Event rules (a complaint, an unusual transaction) describe something
that happened; they stay until a person acknowledges or resolves them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskcli.services.monitoring.rules.behaviour import behaviour_anomaly, behaviour_churn
from riskcli.services.monitoring.rules.contracts import (
    contract_expiring,
    contract_uncovered_business,
)
from riskcli.services.monitoring.rules.default import default
from riskcli.services.monitoring.rules.exposure import exposure_limit
from riskcli.services.monitoring.rules.payment import (
    payment_overdue,
    payment_overdue_growth,
    payment_partial,
)
from riskcli.services.monitoring.rules.portfolio import (
    portfolio_concentration,
    portfolio_score_psi,
)
from riskcli.services.monitoring.rules.relationship import (
    relationship_complaint,
    relationship_no_contact,
    relationship_satisfaction,
)
from riskcli.services.monitoring.rules.score import score_change, score_limit
from riskcli.services.monitoring.rules.third_party import (
    thirdparty_adverse_flag,
    thirdparty_bureau_drop,
)

RuleFunc = Callable[[Any, Any], pd.DataFrame]


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    needs: tuple[str, ...]
    func: RuleFunc
    auto_resolve: bool = True

    @property
    def description(self) -> str:
        doc = (self.func.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


RULES: tuple[Rule, ...] = (
    Rule("default", "payment", ("receivables", "defaults"), default),
    Rule("payment_overdue", "payment", ("receivables",), payment_overdue),
    Rule("payment_overdue_growth", "payment", ("receivables",), payment_overdue_growth),
    Rule("payment_partial", "payment", ("receivables",), payment_partial),
    Rule("exposure_limit", "exposure", ("customers", "receivables", "groups"), exposure_limit),
    Rule("score_change", "score", ("scores",), score_change),
    Rule("score_limit", "score", ("receivables", "scores"), score_limit),
    Rule("thirdparty_adverse_flag", "third party", ("credit_reports",), thirdparty_adverse_flag),
    Rule("thirdparty_bureau_drop", "third party", ("credit_reports",), thirdparty_bureau_drop),
    Rule(
        "behaviour_anomaly", "behaviour", ("transactions",), behaviour_anomaly, auto_resolve=False
    ),
    Rule("behaviour_churn", "behaviour", ("tiers", "transactions"), behaviour_churn),
    Rule(
        "relationship_no_contact",
        "relationship",
        ("tiers", "interactions"),
        relationship_no_contact,
    ),
    Rule(
        "relationship_complaint",
        "relationship",
        ("interactions",),
        relationship_complaint,
        auto_resolve=False,
    ),
    Rule(
        "relationship_satisfaction",
        "relationship",
        ("interactions",),
        relationship_satisfaction,
        auto_resolve=False,
    ),
    Rule("contract_expiring", "contracts", ("contracts",), contract_expiring),
    Rule(
        "contract_uncovered_business",
        "contracts",
        ("contracts", "transactions"),
        contract_uncovered_business,
    ),
    Rule("portfolio_score_psi", "portfolio", ("score_dist", "score_bins"), portfolio_score_psi),
    Rule(
        "portfolio_concentration",
        "portfolio",
        ("customers", "receivables", "groups"),
        portfolio_concentration,
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Rule"]
