"""The portfolio and customer reports follow the book's default state and EL = PD x LGD x EAD.

Book as of 2026-03-31: customer D1 owes 5,000.00 on an invoice due 2025-10-01 (181 days past
due, material: in default); customer P1 owes 3,000.00 not yet due; P2 owes 2,000.00 1-30.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.store import open_store

AS_OF = "2026-03-31"


@pytest.fixture
def book_env(store_env: Path) -> Path:
    s = open_store(store_env, USER, PASSPHRASE.encode())
    try:
        with s.transaction():
            s.executemany(
                "INSERT INTO customers (id, external_id, name, industry) VALUES (?, ?, ?, ?)",
                [
                    (1, "D1", "Late", "建筑业"),
                    (2, "P1", "Fine", "制造业"),
                    (3, "P2", "Ok", "制造业"),
                ],
            )
            s.executemany(
                "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                "amount) VALUES (?, ?, ?, ?, ?)",
                [
                    ("X1", 1, "2025-09-01", "2025-10-01", 500_000),
                    ("X2", 2, "2026-03-10", "2026-04-30", 300_000),
                    ("X3", 3, "2026-02-10", "2026-03-12", 200_000),
                ],
            )
    finally:
        s.close()
    return store_env


def _section(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in payload["sections"] if s["key"] == key)


def test_portfolio_has_a_defaulted_exposure_line_and_el_with_lgd(
    book_env: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text("[credit.loss]\nlgd = 0.5\n")
    assert cli("score", "expert").exit_code == 0
    assert cli("score", "run", "--as-of", AS_OF).exit_code == 0
    out = cli("--config", str(config), "report", "portfolio", "--as-of", AS_OF, "-f", "json")
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    summary = {r["metric"]: r["value"] for r in _section(payload, "summary")["rows"]}
    assert summary["exposure"] == 10_000
    assert summary["customers_in_default"] == 1
    assert summary["defaulted_exposure"] == 5_000
    assert summary["performing_exposure"] == 5_000
    grades = {r["grade"]: r for r in _section(payload, "exposure_by_grade")["rows"]}
    # D1 in default: PD 1 x LGD 0.5 x 5,000 = 2,500, EL rate 50%
    assert grades["DF"]["exposure"] == 5_000
    assert grades["DF"]["expected_loss"] == 2_500 and grades["DF"]["el_rate"] == 0.5
    top = _section(payload, "top_expected_loss")["rows"][0]
    assert (top["customer_id"], top["lgd"], top["expected_loss"]) == ("D1", 0.5, 2_500)
    # the EL total is the grades' EL summed
    total = sum(r["expected_loss"] for r in grades.values())
    assert summary["expected_loss"] == pytest.approx(total, abs=0.02)


def test_customer_report_shows_the_default_and_its_episodes(
    book_env: Path, cli: Callable[..., Any]
) -> None:
    out = cli("report", "customer", "D1", "--as-of", AS_OF, "-f", "json")
    assert out.exit_code == 0, out.output
    default = _section(json.loads(out.stdout), "default")
    assert default["facts"]["in_default"] is True
    assert default["facts"]["amount_past_due_beyond_threshold"] == 5_000
    # entered on the first day more than 90 days past due: 2025-10-01 + 91 days
    assert default["rows"] == [{"entered": "2025-12-31", "cured": None, "amount_at_entry": 5000}]
    fine = cli("report", "customer", "P1", "--as-of", AS_OF, "-f", "json")
    assert _section(json.loads(fine.stdout), "default")["facts"]["in_default"] is False


def test_customer_report_as_of_a_date_shows_nothing_dated_after_it(
    book_env: Path, cli: Callable[..., Any]
) -> None:
    s = open_store(book_env, USER, PASSPHRASE.encode())
    try:
        with s.transaction():
            s.executemany(
                "INSERT INTO credit_reports (customer_id, provider, report_date, score) "
                "VALUES (2, 'bureau', ?, ?)",
                [("2026-01-15", 700), ("2026-05-01", 400)],
            )
            s.execute(
                "INSERT INTO interactions (external_id, customer_id, kind, date) "
                "VALUES ('I1', 2, 'complaint', '2026-04-02')"
            )
            s.execute(  # paid one day after the date: unpaid on it
                "UPDATE receivables SET paid_amount = amount, paid_date = '2026-04-01' "
                "WHERE invoice_number = 'X2'"
            )
    finally:
        s.close()
    out = cli("report", "customer", "P1", "--as-of", AS_OF, "-f", "json")
    payload = json.loads(out.stdout)
    assert [r["report_date"] for r in _section(payload, "credit_reports")["rows"]] == ["2026-01-15"]
    assert _section(payload, "interactions")["rows"] == []
    assert [r["invoice_number"] for r in _section(payload, "open_invoices")["rows"]] == ["X2"]
