"""The vectorised import checks are derived from the models' declarations: change a model, and
the import's check changes with it (no rule is written twice)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

import pyarrow as pa
import pytest
from pydantic import Field

from riskcli.domain import models
from riskcli.domain.models import Contract, CreditReport, Interaction, field_rules, row_errors
from riskcli.domain.rules import NotAbove, RowRule
from riskcli.services.importing.validate import check_frame


def _table(kind: str, rows: list[dict[str, str]]) -> pa.Table:
    return pa.table({name: [r.get(name, "") for r in rows] for name in models.RULES[kind]})


def _errors(kind: str, rows: list[dict[str, str]]) -> list[tuple[int, str, str]]:
    checked = check_frame(kind, _table(kind, rows))
    return sorted(zip(checked.err_pos, checked.err_col, checked.err_reason, strict=True))


REPORT = {"customer_id": "C1", "provider": "bureau", "report_date": "2024-01-31"}


def test_a_tighter_bound_in_the_model_tightens_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{**REPORT, "score": "500"}, {**REPORT, "score": "80"}]
    assert _errors("credit_reports", rows) == []

    class Tight(CreditReport):
        score: Annotated[int | None, Field(ge=0, le=100)] = None

    monkeypatch.setitem(models.MODELS, "credit_reports", Tight)
    assert _errors("credit_reports", rows) == [(0, "score", "must be between 0 and 100")]
    assert row_errors("credit_reports", rows[0]) == [("score", "must be between 0 and 100")]
    assert row_errors("credit_reports", rows[1]) == []


def test_a_longer_text_and_an_optional_field_follow_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [{"customer_id": "C1", "date": "2024-01-31", "kind": "", "note": "x" * 2500}]
    assert _errors("interactions", rows) == [
        (0, "kind", "required"),
        (0, "note", "longer than 2000 characters"),
    ]

    class Loose(Interaction):
        kind: models.InteractionKind = models.InteractionKind.CALL
        note: Annotated[str | None, Field(max_length=3000)] = None

    monkeypatch.setitem(models.MODELS, "interactions", Loose)
    assert _errors("interactions", rows) == []
    checked = check_frame("interactions", _table("interactions", rows))
    assert checked.values["kind"].tolist() == ["call"]


def test_row_rules_come_from_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"contract_number": "K1", "customer_id": "C1", "start_date": "2024-02-01",
         "end_date": "2024-01-01", "value": "50", "signed_date": ""},
    ]  # fmt: skip
    assert _errors("contracts", rows) == [(0, "end_date", "before start_date")]

    class ValueCapped(Contract):
        #: a made-up rule: the signed value may not exceed the amount in a second column
        cap: Annotated[Decimal, Field(ge=0)] = Decimal("0.00")
        ROW_RULES: ClassVar[tuple[RowRule, ...]] = (NotAbove("value", "cap"),)

    monkeypatch.setitem(models.MODELS, "contracts", ValueCapped)
    rows[0]["cap"] = "10"
    assert _errors("contracts", rows) == [(0, "value", "greater than cap")]
    assert row_errors("contracts", rows[0]) == [("value", "greater than cap")]


def test_a_constraint_without_a_cell_rule_is_refused() -> None:
    class Patterned(CreditReport):
        rating: Annotated[str | None, Field(pattern=r"^[A-D]$")] = None

    with pytest.raises(TypeError, match="has no cell rule"):
        field_rules(Patterned)


def test_declared_defaults_reach_storage() -> None:
    rules: dict[str, Any] = field_rules(CreditReport)
    assert rules["lawsuit"]("") is False
    assert field_rules(Contract)["value"]("") == Decimal("0.00")
    assert field_rules(Contract)["end_date"]("2024/2/1") == date(2024, 2, 1)
