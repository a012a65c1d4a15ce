"""Credit limits on a real store: the migration, bands, stacked temporary limits, lapsed
requests, group positions, the store's own maker-checker guard and currency conversion."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import PASSPHRASE, USER, create_store_at

from riskcli.domain.errors import AccessError, InputError
from riskcli.services.limits import groups, requests
from riskcli.services.limits.config import (
    ApprovalConfig,
    LimitsConfig,
    approval_config,
    book_config,
    limits_config,
)
from riskcli.services.limits.currency import load_rates
from riskcli.storage.store import Store, open_store

TODAY = date(2026, 6, 1)


def _customer(store: Store, ext: str, limit: int = 0, **cols: str) -> None:
    names = ", ".join(["external_id", "name", "credit_limit", *cols])
    marks = ", ".join("?" * (3 + len(cols)))
    store.execute(
        f"INSERT INTO customers ({names}) VALUES ({marks})", (ext, ext, limit, *cols.values())
    )


def _as(store: Store, user: str, role: str) -> Store:
    """The same open store acting as another user (the service reads store.user/role)."""
    store.user, store.role = user, role
    return store


def test_the_migration_applies_on_a_store_of_the_previous_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_store_at(path, "m062_scores_without_customer_index")
    old.execute("INSERT INTO customers (external_id, name, credit_limit) VALUES ('C1', 'A', 5)")
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as s:
        row = s.query("SELECT credit_limit, group_id, limit_expires FROM customers")[0]
        assert row == {"credit_limit": 5, "group_id": None, "limit_expires": None}
        assert {"limit_requests", "group_limits", "foreign_amounts"} <= set(s.tables())


def test_bands_cover_amounts_up_to_and_including_their_edge() -> None:
    bands = ApprovalConfig()
    assert bands.may_approve("analyst", Decimal("100000.00"))
    assert not bands.may_approve("analyst", Decimal("100000.01"))
    assert bands.may_approve("manager", Decimal("1000000"))
    assert not bands.may_approve("manager", Decimal("1000000.01"))
    assert bands.may_approve("admin", Decimal("10") ** 12)
    assert not bands.may_approve("viewer", Decimal("1"))
    assert bands.authority("analyst") == Decimal("100000")
    assert bands.authority("admin") is None
    capped = approval_config(
        {"credit": {"approval": {"bands": [{"up_to": 10, "roles": ["admin"]}]}}}
    )
    assert not capped.may_approve("admin", Decimal("10.01"))  # above every band: nobody


ADMINS = {"roles": ["admin"]}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"credit": {"approval": {"bands": [ADMINS, {"up_to": 5, **ADMINS}]}}},
         "only the last band may leave out up_to"),
        ({"credit": {"approval": {"bands": [{"up_to": 5, "roles": ["boss"]}]}}}, "unknown role"),
        ({"credit": {"limits": {"reasons": ["a", "a"]}}}, "distinct"),
        ({"book": {"currency": "yuan"}}, "three-letter"),
        ({"credit": "x"}, "must be a table"),
    ],
)  # fmt: skip
def test_bad_configuration_is_one_line(config: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        approval_config(config)
        limits_config(config)
        book_config(config)


def test_stacked_temporary_limits_fall_back_to_the_permanent_one(store: Store) -> None:
    _customer(store, "C1", 100_00)
    cfg = LimitsConfig()
    first = requests.request(
        _as(store, "bob", "analyst"), cfg, customer="C1", amount=Decimal("200"),
        reason="seasonal", expires=TODAY + timedelta(days=30), today=TODAY,
    )  # fmt: skip
    requests.decide(_as(store, "carol", "manager"), cfg, ApprovalConfig(), first["request"],
                    approve=True, note=None, today=TODAY)  # fmt: skip
    second = requests.request(
        _as(store, "bob", "analyst"), cfg, customer="C1", amount=Decimal("300"),
        reason="seasonal", expires=TODAY + timedelta(days=10), today=TODAY,
    )  # fmt: skip
    requests.decide(_as(store, "carol", "manager"), cfg, ApprovalConfig(), second["request"],
                    approve=True, note=None, today=TODAY)  # fmt: skip
    state = store.query("SELECT credit_limit, limit_fallback, limit_expires FROM customers")[0]
    assert state == {"credit_limit": 300_00, "limit_fallback": 100_00,
                     "limit_expires": (TODAY + timedelta(days=10)).isoformat()}  # fmt: skip
    assert requests.expire(store, cfg, today=TODAY + timedelta(days=10)) == {
        "requests_expired": 0,
        "limits_fell_back": 0,
    }  # fmt: skip  (the last day still holds)
    assert not requests.expiry_due(store, cfg, today=TODAY + timedelta(days=10))
    assert requests.expiry_due(store, cfg, today=TODAY + timedelta(days=11))
    requests.expire(store, cfg, today=TODAY + timedelta(days=11))
    assert store.scalar("SELECT credit_limit FROM customers") == 100_00


def test_a_request_not_decided_in_time_lapses_and_cannot_be_approved(store: Store) -> None:
    _customer(store, "C1")
    cfg = LimitsConfig(pending_days=5)
    req = requests.request(_as(store, "bob", "analyst"), cfg, customer="C1",
                           amount=Decimal("10"), reason="review", today=date.today())  # fmt: skip
    counts = requests.expire(store, cfg, today=date.today() + timedelta(days=6))
    assert counts["requests_expired"] == 1
    with pytest.raises(InputError, match=f"request {req['request']} is already expired"):
        requests.decide(_as(store, "carol", "manager"), cfg, ApprovalConfig(), req["request"],
                        approve=True, note=None)  # fmt: skip
    assert store.scalar("SELECT credit_limit FROM customers") == 0


def test_a_second_pending_request_and_a_past_expiry_are_refused(store: Store) -> None:
    _customer(store, "C1")
    cfg = LimitsConfig()
    bob = _as(store, "bob", "analyst")
    requests.request(bob, cfg, customer="C1", amount=Decimal("10"), reason="review")
    with pytest.raises(InputError, match="already has pending request 1"):
        requests.request(bob, cfg, customer="C1", amount=Decimal("20"), reason="review")
    with pytest.raises(InputError, match="is not after today"):
        requests.request(bob, cfg, customer="C1", amount=Decimal("20"), reason="review",
                         expires=date.today())  # fmt: skip
    with pytest.raises(InputError, match="no customer with id 'C9'"):
        requests.request(bob, cfg, customer="C9", amount=Decimal("20"), reason="review")


def test_the_store_itself_refuses_a_self_approved_request(store: Store) -> None:
    _customer(store, "C1")
    req = requests.request(_as(store, "bob", "analyst"), LimitsConfig(), customer="C1",
                           amount=Decimal("10"), reason="review")  # fmt: skip
    with pytest.raises(Exception, match="CHECK constraint failed"):
        store.execute("UPDATE limit_requests SET decided_by = 'bob' WHERE id = ?",
                      (req["request"],))  # fmt: skip
    with pytest.raises(AccessError, match="maker-checker"):
        requests.decide(store, LimitsConfig(), ApprovalConfig(), req["request"],
                        approve=False, note="no")  # fmt: skip


def test_group_exposure_is_the_sum_of_its_members(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _customer(store, "P", 1000)
    _customer(store, "S1", 200, parent_id="P")
    _customer(store, "S2", 300, parent_id="S1")
    _customer(store, "G1", 50, group_id="G")
    _customer(store, "G2", 70, parent_id="G1")  # inherits G1's group
    _customer(store, "HOLD1", 5, parent_id="HOLDCO")  # a parent that is not a customer
    _customer(store, "ALONE", 9)
    ids = {r["external_id"]: r["id"] for r in store.query("SELECT id, external_id FROM customers")}
    for ext, amount, paid, paid_date in (
        ("P", 100, 0, None), ("S1", 200, 50, "2026-05-01"), ("S2", 300, 300, "2026-07-01"),
        ("G2", 40, 0, None), ("ALONE", 999, 0, None),
    ):  # fmt: skip
        store.execute(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount, paid_date) VALUES (?, ?, '2026-01-01', '2026-02-01', ?, ?, ?)",
            (f"I-{ext}", ids[ext], amount, paid, paid_date),
        )
    frame = groups.group_positions(store, TODAY).set_index("group")
    assert sorted(frame.index) == ["G", "HOLDCO", "P"]
    assert frame.loc["P", "members"] == 3
    # S2 paid after the as-of date: still owed as of it
    assert frame.loc["P", "exposure"] == 100 + 150 + 300
    assert frame.loc["G", "exposure"] == 40 and frame.loc["G", "member_limits"] == 120
    members = groups.group_members(store, "P", TODAY)
    assert sum(m["exposure"] for m in members) * 100 == int(frame.loc["P", "exposure"])
    assert frame.loc["P", "worst_grade"] is None  # not scored, not in default
    # 5,000 more than 90 days past due: a material amount, so S2 is in default and P's worst
    # grade is DF (the book's default state)
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount) "
        "VALUES ('BIG', ?, '2026-01-01', '2026-02-01', 500000)",
        (ids["S2"],),
    )
    frame = groups.group_positions(store, TODAY).set_index("group")
    assert frame.loc["P", "worst_grade"] == "DF"
    assert frame.loc["P", "exposure"] == 100 + 150 + 300 + 500000
    one_by_one = frame.reset_index()
    monkeypatch.setattr(groups, "ONE_BY_ONE", 0)  # the whole book read once gives the same
    pd.testing.assert_frame_equal(groups.group_positions(store, TODAY), one_by_one)
    store.execute("UPDATE customers SET parent_id = 'S2' WHERE external_id = 'P'")
    with pytest.raises(InputError, match="parent_id cycle"):
        groups.check_cycles(store)


def test_rates_take_the_rate_on_or_before_the_day(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "date,currency,rate\n2026-01-10,USD,7.2\n2026-01-01,USD,7.1\n2026-01-05,EUR,7.9\n"
    )
    rates = load_rates(path)
    assert rates.rate("USD", date(2026, 1, 9)) == (Decimal("7.1"), date(2026, 1, 1))
    assert rates.rate("USD", date(2026, 1, 10)) == (Decimal("7.2"), date(2026, 1, 10))
    assert rates.rate("USD", None) == (Decimal("7.2"), date(2026, 1, 10))
    with pytest.raises(InputError, match="has no EUR rate on or before 2026-01-04"):
        rates.rate("EUR", date(2026, 1, 4))
    path.write_text("day,code,value\n")
    with pytest.raises(InputError, match="needs the columns date,currency,rate"):
        load_rates(path)
    path.write_text("date,currency,rate\n2026-01-01,USD,-1\n")
    with pytest.raises(InputError, match="line 2: rate must be a number above 0"):
        load_rates(path)


def _score(store: Store, grades: dict[str, tuple[str, int]]) -> None:
    """A score run (by hand) giving each customer a grade and a recommended limit in cents."""
    store.execute(
        "INSERT INTO score_models (name, version, kind, source, created_by, created_at, params, "
        "fingerprint, metrics, report, model) VALUES ('m', 1, 'expert', 's', 'a', 't', '{}', "
        "'f', '{}', '{}', '{}')"
    )
    run = store.execute(
        "INSERT INTO score_runs (model_id, created_at, created_by, as_of, customers, params, "
        "stats) VALUES (1, 't', 'a', '2026-05-31', ?, '{}', '{}')",
        (len(grades),),
    ).lastrowid
    for ext, (grade, recommended) in grades.items():
        store.execute(
            "INSERT INTO scores (run_id, customer_id, score, pd, grade, bins, recommended_limit, "
            "current_limit, over_limit) SELECT ?, id, 600, 0.02, ?, x'00', ?, credit_limit, 0 "
            "FROM customers WHERE external_id = ?",
            (run, grade, recommended, ext),
        )


def test_a_request_keeps_the_recommendation_and_grade_and_sets_review_by_grade(
    store: Store,
) -> None:
    _customer(store, "C1", 100_00, group_id="G")
    _customer(store, "C2", 100_00, group_id="G")
    _score(store, {"C1": ("B", 500_00), "C2": ("D", 50_00)})
    cfg = LimitsConfig()
    req = requests.request(_as(store, "bob", "analyst"), cfg, customer="C2",
                           amount=Decimal("80"), reason="review", today=TODAY)  # fmt: skip
    assert (req["recommended_limit"], req["grade"]) == (Decimal("50.00"), "D")
    done = requests.decide(_as(store, "carol", "manager"), cfg, ApprovalConfig(), req["request"],
                           approve=True, note=None, today=TODAY)  # fmt: skip
    assert done["review_date"] == "2026-07-01"  # grade D: monthly
    frame = groups.group_positions(store, TODAY)
    assert frame.loc[0, "worst_grade"] == "D"
