"""The book as of a date (riskcli.services.book) on hand-made books: each rule stated once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.scoring import factors as F
from riskcli.storage.store import Store

D = date(2026, 6, 30)
POLICY = book.DefaultPolicy()


def _customer(store: Store, pk: int = 1) -> None:
    store.execute(
        "INSERT INTO customers (id, external_id, registered_date, credit_limit) "
        "VALUES (?, ?, '2020-01-01', 1000000)",
        (pk, f"C{pk}"),
    )


def _invoice(
    store: Store,
    number: str,
    issue: str,
    due: str,
    amount: int,
    paid: int = 0,
    paid_date: str | None = None,
    pk: int = 1,
) -> None:
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
        "paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (number, pk, issue, due, amount, paid, paid_date),
    )


def _in_default(store: Store, day: date, policy: book.DefaultPolicy = POLICY) -> bool:
    state = book.default_state(store, day, policy)
    return bool(state.in_default[state.ids == 1].any())


def test_an_invoice_paid_one_day_after_the_date_is_unpaid_as_of_it(store: Store) -> None:
    with store.transaction():
        _customer(store)
        _invoice(store, "I1", "2026-05-01", "2026-05-31", 500000, 500000, "2026-07-01")
        _invoice(store, "I2", "2026-07-01", "2026-07-31", 900000)  # issued the day after
    rows = book.open_invoices(store, D)
    assert rows["invoice_number"].tolist() == ["I1"]
    assert rows["outstanding"].tolist() == [500000] and rows["days_past_due"].tolist() == [30]
    assert book.open_invoices(store, D + timedelta(days=1))["invoice_number"].tolist() == ["I2"]
    pos = book.positions(store, D).iloc[0]
    assert pos["exposure"] == 500000 and pos["overdue"] == 500000
    assert pos["oldest_open_dpd"] == 30


def test_an_undated_payment_counts_as_paid(store: Store) -> None:
    with store.transaction():
        _customer(store)
        _invoice(store, "I1", "2026-05-01", "2026-05-31", 500000, 200000, None)
    assert book.open_invoices(store, D)["outstanding"].tolist() == [300000]


def test_a_credit_report_counts_on_its_date_not_before(store: Store) -> None:
    with store.transaction():
        _customer(store)
        store.execute(
            "INSERT INTO credit_reports (customer_id, provider, report_date, score) "
            "VALUES (1, 'p', '2026-06-30', 640), (1, 'p', '2026-07-01', 300)"
        )
    assert F.build_factors(store, D).iloc[0]["bureau_score"] == 640
    assert F.build_factors(store, D + timedelta(days=1)).iloc[0]["bureau_score"] == 300
    assert F.build_factors(store, D - timedelta(days=1))["bureau_score"].isna().all()


def test_a_material_amount_more_than_90_days_past_due_is_a_default(store: Store) -> None:
    with store.transaction():
        _customer(store)
        # due 2026-03-31: 91 days past due on 2026-06-30, 90 on 06-29
        _invoice(store, "I1", "2026-03-01", "2026-03-31", 500000)
    assert _in_default(store, D)
    assert not _in_default(store, D - timedelta(days=1))
    state = book.default_state(store, D, POLICY)
    assert state.amount.tolist() == [500000]


@pytest.mark.parametrize(
    ("late", "other", "why"),
    [
        (100000, 0, "exactly the floor of 1,000 is not above it"),
        (50000, 0, "500 is below the floor"),
        (150000, 20000000, "1,500 is 0.74% of 201,500 all along: below the 1% share"),
    ],
)
def test_an_amount_below_materiality_is_not_a_default(
    store: Store, late: int, other: int, why: str
) -> None:
    with store.transaction():
        _customer(store)
        _invoice(store, "I1", "2026-01-01", "2026-01-31", late)
        if other:  # issued before I1 was 90 days late, due after the as-of date
            _invoice(store, "I2", "2026-01-15", "2026-12-31", other)
    assert not _in_default(store, D), why


def test_a_customer_with_no_invoices_is_never_in_default(store: Store) -> None:
    with store.transaction():
        _customer(store)
    assert book.default_state(store, D, POLICY).ids.size == 0
    assert book.default_episodes(store, 1, D, POLICY) == []
    assert F.build_factors(store, D).iloc[0]["in_default"] == 0


def test_a_default_is_cured_three_months_after_the_last_material_day(store: Store) -> None:
    with store.transaction():
        _customer(store)
        # 91 days past due on 2026-01-31 (default), paid 2026-03-10: last material day 03-09
        _invoice(store, "I1", "2025-10-01", "2025-11-01", 800000, 800000, "2026-03-10")
    entered = date(2026, 1, 31)
    cured = date(2026, 6, 9)  # quiet from 03-10 to 06-09: three months
    assert book.cure_day(date(2026, 3, 9), POLICY) == cured
    episodes = book.default_episodes(store, 1, D, POLICY)
    assert episodes == [book.Episode(entered, cured, Decimal("8000.00"))]
    assert not _in_default(store, entered - timedelta(days=1))
    assert _in_default(store, entered)
    assert _in_default(store, cured - timedelta(days=1))  # paid, but not yet cured
    assert not _in_default(store, cured)
    # the episode seen as of a day inside it is still open
    assert book.default_episodes(store, 1, date(2026, 4, 1), POLICY)[0].cured is None


def test_a_new_late_invoice_before_the_cure_continues_the_default(store: Store) -> None:
    with store.transaction():
        _customer(store)
        _invoice(store, "I1", "2025-10-01", "2025-11-01", 800000, 800000, "2026-03-10")
        # due 2026-02-15: more than 90 days past due from 2026-05-17, before the cure (06-10)
        _invoice(store, "I2", "2026-01-15", "2026-02-15", 600000)
    episodes = book.default_episodes(store, 1, D, POLICY)
    assert len(episodes) == 1 and episodes[0].cured is None
    assert _in_default(store, date(2026, 6, 10))


_day = st.integers(min_value=0, max_value=500)


@st.composite
def _invoices(draw: st.DrawFn) -> list[tuple[int, int, int, int | None, int]]:
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        issue = draw(_day)
        terms = draw(st.sampled_from([0, 15, 30, 60]))
        amount = draw(st.sampled_from([50000, 150000, 400000, 3000000]))
        paid_after = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=300)))
        partial = draw(st.sampled_from([1.0, 1.0, 0.5]))
        rows.append((issue, terms, amount, paid_after, int(amount * partial)))
    return rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(invoices=_invoices(), cure=st.sampled_from([0, 1, 3]))
def test_the_vectorised_state_agrees_with_the_episodes(
    store: Store, invoices: list[tuple[int, int, int, int | None, int]], cure: int
) -> None:
    """default_state (check points) and default_episodes (event by event) agree on every day."""
    start = date(2025, 1, 1)
    policy = book.DefaultPolicy(cure_months=cure)
    with store.transaction():
        store.execute("DELETE FROM receivables")
        store.execute("DELETE FROM customers")
        _customer(store)
        for k, (issue, terms, amount, paid_after, paid) in enumerate(invoices):
            i = start + timedelta(days=issue)
            d = i + timedelta(days=terms)
            p = None if paid_after is None else d + timedelta(days=paid_after)
            _invoice(
                store,
                f"I{k}",
                i.isoformat(),
                d.isoformat(),
                amount,
                paid if p else 0,
                p.isoformat() if p else None,
            )
    last = start + timedelta(days=900)
    episodes = book.default_episodes(store, 1, last, policy)
    for day in (start + timedelta(days=n) for n in range(0, 900, 17)):
        by_episodes = any(e.entered <= day and (e.cured is None or day < e.cured) for e in episodes)
        assert _in_default(store, day, policy) == by_episodes, day


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[credit.loss]\nlgd = 1.5\n", "config [credit] loss.lgd: "),
        ("[credit.default]\ndays_past_due = -1\n", "config [credit] default.days_past_due: "),
        ("[credit.default]\ncure_months = -2\n", "config [credit] default.cure_months: "),
        (
            "[scoring.limits]\ngrade_factors = { A = 1.5 }\n",
            "config [scoring] limits.grade_factors: ",
        ),
        ('[credit.loss.by_industry]\n"建筑业" = 2\n', "config [credit] loss.by_industry.建筑业"),
    ],
)
def test_a_bad_credit_setting_is_one_line_naming_its_key(
    store_env: Path, tmp_path: Path, cli: Callable[..., Any], toml: str, message: str
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text(toml, encoding="utf-8")
    result = cli("--config", str(config), "score", "expert")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}"), result.output


def test_credit_config_defaults_and_industry_lgd() -> None:
    cfg = book.load_credit_config({"credit": {"loss": {"by_industry": {"建筑业": 0.45}}}})
    assert cfg.default == book.DefaultPolicy(
        days_past_due=90, materiality_amount=Decimal(1000), materiality_share=0.01, cure_months=3
    )
    import numpy as np

    lgd = cfg.loss.lgd_of(np.array(["建筑业", "制造业", None], dtype=object))
    assert lgd.tolist() == [0.45, 0.40, 0.40]
    with pytest.raises(InputError, match="must be a table"):
        book.load_credit_config({"credit": 3})
