"""Credit limits through the CLI: requests, maker-checker, approval bands at their edges,
imports that respect them, groups, before/after values in the trail, currencies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services.limits.requests import add_months
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
HEADER = "customer_id,name,credit_limit\n"


@pytest.fixture
def team(store_env: Path, tmp_path: Path, cli: Cli) -> dict[str, Path]:
    """alice (admin) adds bob and dan (analysts) and carol (manager); customers C1..C3."""
    files: dict[str, Path] = {}
    for name, role in (("bob", "analyst"), ("dan", "analyst"), ("carol", "manager")):
        pw = tmp_path / f"{name}.pw"
        pw.write_text(f"{name}'s own long passphrase\n")
        result = cli("user", "add", name, "--role", role, "--new-passphrase-file", str(pw))
        assert result.exit_code == 0, result.output
        files[name] = pw
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "C1,甲公司,650000\nC2,乙公司,50000\nC3,丙公司,0\n", encoding="utf-8")
    assert cli("import", "customers", str(path)).exit_code == 0
    return files


def as_user(cli: Cli, team: dict[str, Path], user: str, *args: str) -> Any:
    if user == USER:
        return cli(*args)
    return cli("--user", user, "--passphrase-file", str(team[user]), *args)


def _db(store_env: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        rows: list[dict[str, Any]] = s.query(sql, params)
        return rows


def _limit(store_env: Path, customer: str) -> int:
    rows = _db(store_env, "SELECT credit_limit FROM customers WHERE external_id = ?", (customer,))
    return int(rows[0]["credit_limit"])


def _request(cli: Cli, team: dict[str, Path], user: str, *args: str) -> dict[str, Any]:
    result = as_user(cli, team, user, "limits", "request", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _changes(store_env: Path, customer: str) -> list[dict[str, Any]]:
    rows = _db(
        store_env,
        "SELECT user, affected FROM audit_events WHERE action = 'customers.change' ORDER BY seq",
    )
    out = []
    for r in rows:
        affected = json.loads(r["affected"])
        if affected.get("customer") == customer:
            out.append({"user": r["user"], **affected})
    return out


def test_request_then_approval_by_another_user_sets_the_limit_with_before_and_after(
    team: dict[str, Path], store_env: Path, cli: Cli
) -> None:
    req = _request(cli, team, "bob", "C1", "--amount", "800000", "--reason", "seasonal")
    assert req["status"] == "pending"
    assert (req["current_limit"], req["amount"]) == (650000, 800000)
    assert _limit(store_env, "C1") == 65_000_000  # nothing changes before approval
    result = as_user(cli, team, "carol", "limits", "approve", str(req["request"]), "-f", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["status"], shown["decided_by"]) == ("approved", "carol")
    assert _limit(store_env, "C1") == 80_000_000
    # no grade yet: review_months_default (3) from today
    review = _db(store_env, "SELECT limit_review FROM customers WHERE external_id = 'C1'")
    assert review[0]["limit_review"] == shown["review_date"]
    assert shown["review_date"] == add_months(date.today(), 3).isoformat()
    assert _changes(store_env, "C1") == [
        {
            "user": "carol",
            "customer": "C1",
            "field": "credit_limit",
            "old": "650000.00",
            "new": "800000.00",
            "request": req["request"],
            "requested_by": "bob",
        }
    ]
    assert cli("audit", "verify").exit_code == 0  # the change events are in the chain
    log = cli("audit", "log", "--customer", "C1", "--format", "json")
    events = json.loads(log.stdout)
    assert any(
        e["action"] == "customers.change" and '"old": "650000.00"' in e["affected"] for e in events
    )


def test_the_requester_may_never_approve_or_reject(
    team: dict[str, Path], store_env: Path, cli: Cli
) -> None:
    req = _request(cli, team, "carol", "C2", "--amount", "60000", "--reason", "new business")
    for verb in ("approve", "reject"):
        result = as_user(cli, team, "carol", "limits", verb, str(req["request"]), "--note", "x")
        assert result.exit_code == 3
        assert result.stderr == (
            f"Error: request {req['request']} was made by carol; another user must {verb} it "
            "(maker-checker)\n"
        )
    assert _limit(store_env, "C2") == 5_000_000
    last = _db(store_env, "SELECT user, action, outcome FROM audit_events ORDER BY seq DESC")[0]
    assert last == {"user": "carol", "action": "limits.approve", "outcome": "denied"}
    status = _db(store_env, "SELECT status FROM limit_requests WHERE id = ?", (req["request"],))
    assert status[0]["status"] == "pending"


@pytest.mark.parametrize(
    ("amount", "approver", "allowed"),
    [
        ("100000", "dan", True),
        ("100000.01", "dan", False),
        ("100000.01", "carol", True),
        ("1000000", "carol", True),
        ("1000000.01", "carol", False),
        ("1000000.01", USER, True),
    ],
)
def test_approval_bands_at_their_edges(
    team: dict[str, Path], store_env: Path, cli: Cli, amount: str, approver: str, allowed: bool
) -> None:
    req = _request(cli, team, "bob", "C3", "--amount", amount, "--reason", "new business")
    result = as_user(cli, team, approver, "limits", "approve", str(req["request"]))
    if allowed:
        assert result.exit_code == 0, result.output
        assert _limit(store_env, "C3") == round(float(amount) * 100)
    else:
        assert result.exit_code == 3
        assert result.stderr.startswith(f"Error: approving a limit of {float(amount):,.2f} needs")
        assert _limit(store_env, "C3") == 0


def test_bad_requests_are_one_line_errors_and_change_nothing(
    team: dict[str, Path], store_env: Path, cli: Cli
) -> None:
    bad = as_user(cli, team, "bob", "limits", "request", "C1", "--amount", "1", "--reason", "whim")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: reason 'whim' is not a configured reason code (use one")
    usd = as_user(
        cli, team, "bob", "limits", "request", "C1", "--amount", "US$5", "--reason", "review"
    )
    assert usd.exit_code == 2
    assert "amount in USD; give --rates or convert first" in usd.stderr
    req = _request(cli, team, "bob", "C1", "--amount", "1", "--reason", "risk reduction")
    assert as_user(cli, team, "carol", "limits", "reject", str(req["request"])).exit_code == 2
    ok = as_user(cli, team, "carol", "limits", "reject", str(req["request"]), "--note", "no")
    assert ok.exit_code == 0, ok.output
    again = as_user(cli, team, "dan", "limits", "approve", str(req["request"]))
    assert again.exit_code == 1
    assert again.stderr == f"Error: request {req['request']} is already rejected\n"
    assert _limit(store_env, "C1") == 65_000_000
    assert _db(store_env, "SELECT count(*) AS n FROM limit_requests")[0]["n"] == 1


def test_a_temporary_limit_expires_and_falls_back(
    team: dict[str, Path], store_env: Path, cli: Cli
) -> None:
    from datetime import timedelta

    from riskcli.services.limits import requests
    from riskcli.services.limits.config import LimitsConfig

    until = date.today() + timedelta(days=10)
    req = _request(
        cli, team, "bob", "C2", "--amount", "90000", "--reason", "seasonal",
        "--expires", until.isoformat(),
    )  # fmt: skip
    assert as_user(cli, team, "dan", "limits", "approve", str(req["request"])).exit_code == 0
    assert _limit(store_env, "C2") == 9_000_000
    listed = json.loads(cli("limits", "list", "--expiring", "30d", "-f", "json").stdout)
    assert [(r["customer_id"], r["fallback"], r["state"]) for r in listed] == [
        ("C2", 50000, "active")
    ]
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        counts = requests.expire(s, LimitsConfig(), today=until + timedelta(days=1))
    assert counts["limits_fell_back"] == 1
    assert _limit(store_env, "C2") == 5_000_000
    change = _changes(store_env, "C2")[-2]
    assert (change["old"], change["new"]) == ("90000.00", "50000.00")
    assert change["why"] == f"temporary limit expired after {until}"
    listed = json.loads(cli("limits", "list", "--expiring", "30d", "-f", "json").stdout)
    assert [r["state"] for r in listed] == ["fell back"]


def test_a_decrease_can_skip_approval_by_configuration(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli, monkeypatch: Any
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text("[credit.limits]\ndecrease_needs_approval = false\n")
    monkeypatch.setenv("RISKCLI_CONFIG", str(config))
    cut = as_user(cli, team, "bob", "limits", "request", "C1", "--amount", "100000",
                  "--reason", "risk reduction", "-f", "json")  # fmt: skip
    assert "request 1: a decrease, applied at once (recorded)" in cut.stderr
    req = json.loads(cut.stdout)
    assert (req["status"], req["source"], req["decided_by"]) == ("approved", "decrease", "bob")
    assert _limit(store_env, "C1") == 10_000_000
    assert _changes(store_env, "C1")[0]["why"].startswith("decrease without approval")
    up = _request(cli, team, "bob", "C1", "--amount", "200000", "--reason", "review")
    assert up["status"] == "pending"


def test_import_turns_a_changed_limit_into_a_pending_request(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = tmp_path / "changed.csv"
    path.write_text(HEADER + "C1,甲公司,5000000\nC2,乙公司,50000\nC3,丙公司,0\n")
    dry = as_user(cli, team, "bob", "import", "customers", str(path), "--dry-run", "-f", "json")
    assert "1 credit limit change(s) would become pending request(s)" in dry.stderr
    assert _db(store_env, "SELECT count(*) AS n FROM limit_requests")[0]["n"] == 0
    result = as_user(cli, team, "bob", "import", "customers", str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["limit_requests"] == 1
    assert "1 credit limit change(s) became pending request(s)" in result.stderr
    assert _limit(store_env, "C1") == 65_000_000
    again = as_user(cli, team, "bob", "import", "customers", str(path), "-f", "json")
    assert json.loads(again.stdout)[0]["limit_requests"] == 0  # the same file asks once
    pending = json.loads(cli("limits", "list", "--pending", "-f", "json").stdout)
    assert [(p["customer_id"], p["amount"], p["reason"], p["source"]) for p in pending] == [
        ("C1", 5000000, "import", "import")
    ]
    own = as_user(cli, team, "bob", "limits", "approve", str(pending[0]["request"]))
    assert own.exit_code == 3  # maker-checker holds for an import's request too
    assert as_user(cli, team, "carol", "limits", "approve", str(pending[0]["request"])).exit_code
    assert cli("limits", "approve", str(pending[0]["request"])).exit_code == 0
    assert _limit(store_env, "C1") == 500_000_000


def test_import_limits_apply_needs_authority_over_every_amount(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = tmp_path / "changed.csv"
    path.write_text(HEADER + "C1,甲公司,5000000\nC2,乙公司,60000\nC3,丙公司,0\n")
    denied = as_user(cli, team, "carol", "import", "customers", str(path), "--limits", "apply")
    assert denied.exit_code == 3
    assert denied.stderr.startswith(
        "Error: import --limits apply: a limit of 5,000,000.00 needs a role of admin"
    )
    assert (_limit(store_env, "C1"), _limit(store_env, "C2")) == (65_000_000, 5_000_000)
    last = _db(store_env, "SELECT user, action, outcome FROM audit_events ORDER BY seq DESC")[0]
    assert last == {"user": "carol", "action": "import.write", "outcome": "denied"}
    ok = cli("import", "customers", str(path), "--limits", "apply", "-f", "json")
    assert ok.exit_code == 0, ok.output
    assert (_limit(store_env, "C1"), _limit(store_env, "C2")) == (500_000_000, 6_000_000)
    change = _changes(store_env, "C1")[0]
    assert (change["old"], change["new"], change["user"]) == ("650000.00", "5000000.00", USER)
    assert change["why"] == "import --limits apply (no second approver)"
    sources = _db(store_env, "SELECT source, status, decided_by FROM limit_requests")
    assert sources == [{"source": "import-apply", "status": "approved", "decided_by": USER}] * 2


def test_new_customers_first_limit_can_need_approval(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli, monkeypatch: Any
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text("[credit.limits]\ninitial_limit_needs_approval = true\n")
    monkeypatch.setenv("RISKCLI_CONFIG", str(config))
    path = tmp_path / "new.csv"
    path.write_text(HEADER + "C9,新公司,30000\n")
    result = as_user(cli, team, "bob", "import", "customers", str(path), "-f", "json")
    assert json.loads(result.stdout)[0]["limit_requests"] == 1
    assert _limit(store_env, "C9") == 0
    pending = json.loads(cli("limits", "list", "--customer", "C9", "-f", "json").stdout)
    assert (pending[0]["amount"], pending[0]["current_limit"]) == (30000, 0)


def test_import_records_status_and_group_changes_with_before_and_after(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = tmp_path / "status.csv"
    path.write_text(
        "客户编号,客户名称,信用额度,状态,所属集团\nC1,甲公司,650000,冻结,G1\n", encoding="utf-8"
    )
    assert cli("import", "customers", str(path)).exit_code == 0
    changes = {c["field"]: (c["old"], c["new"]) for c in _changes(store_env, "C1")}
    assert changes == {"status": ("active", "suspended"), "group_id": (None, "G1")}


GROUPS = (
    "客户编号,客户名称,信用额度,集团,母公司编号\n"
    "P1,母公司,1000000,,\n"
    "S1,子公司一,200000,,P1\n"
    "S2,子公司二,300000,,S1\n"
    "X1,集团成员,50000,GX,\n"
    "X2,集团成员二,70000,GX,\n"
    "L1,独立,10000,,\n"
)
INVOICES = (
    "invoice_number,customer_id,issue_date,due_date,amount,paid_amount\n"
    "I1,P1,2026-01-01,2026-01-31,1000,0\n"
    "I2,S1,2026-01-01,2026-12-31,2000,500\n"
    "I3,S2,2026-02-01,2026-02-28,3000,0\n"
    "I4,X1,2026-01-01,2026-01-31,400,0\n"
    "I5,L1,2026-01-01,2026-01-31,999,0\n"
)


def test_groups_add_up_their_members(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "c.csv").write_text(GROUPS, encoding="utf-8")
    (tmp_path / "r.csv").write_text(INVOICES, encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    assert cli("import", "receivables", str(tmp_path / "r.csv")).exit_code == 0
    result = cli("customers", "groups", "--as-of", "2026-06-30", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {r["group"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"P1", "GX"}
    assert rows["P1"]["members"] == 3
    assert rows["P1"]["exposure"] == 5500  # 1000 + 1500 + 3000
    assert rows["P1"]["overdue"] == 4000
    assert rows["P1"]["member_limits"] == 1500000
    assert (rows["GX"]["members"], rows["GX"]["exposure"]) == (2, 400)
    members = json.loads(cli("customers", "groups", "P1", "-f", "json").stdout)
    assert [m["customer_id"] for m in members] == ["P1", "S1", "S2"]
    total = sum(float(m["exposure"]) for m in members)
    assert total == float(rows["P1"]["exposure"])
    shown = json.loads(cli("customers", "show", "S2", "-f", "json").stdout)["customer"]
    assert (shown["parent_id"], shown["group_id"], shown["limit_expires"]) == ("S1", None, None)
    report = cli("report", "customer", "S2", "--as-of", "2026-06-30", "-f", "json")
    assert report.exit_code == 0, report.output
    section = next(x for x in json.loads(report.stdout)["sections"] if x["key"] == "limit")
    limit = {r["metric"]: r["value"] for r in section["rows"]}
    assert (limit["group"], limit["group_members"], limit["group_exposure"]) == ("P1", 3, 5500)


def test_a_parent_cycle_is_refused_and_nothing_changes(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "c.csv").write_text(GROUPS, encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    loop = tmp_path / "loop.csv"
    loop.write_text("客户编号,客户名称,母公司编号\nP1,母公司,S2\n", encoding="utf-8")
    result = cli("import", "customers", str(loop))
    assert result.exit_code == 1
    assert result.stderr == "Error: parent_id cycle: P1 -> S2 -> S1 -> P1\n"
    assert _db(store_env, "SELECT parent_id FROM customers WHERE external_id = 'P1'") == [
        {"parent_id": None}
    ]


def test_a_group_limit_goes_through_the_same_approval(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "c.csv").write_text(GROUPS, encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    req = _request(cli, team, "bob", "--group", "P1", "--amount", "1200000", "--reason", "review")
    assert req["group_id"] == "P1" and req["customer_id"] is None
    assert as_user(cli, team, "carol", "limits", "approve", str(req["request"])).exit_code == 3
    assert cli("limits", "approve", str(req["request"])).exit_code == 0
    rows = {r["group"]: r for r in json.loads(cli("customers", "groups", "-f", "json").stdout)}
    assert rows["P1"]["group_limit"] == 1200000
    unknown = as_user(
        cli, team, "bob", "limits", "request", "--group", "NOPE", "--amount", "1",
        "--reason", "review",
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert unknown.stderr == "Error: no customer group 'NOPE' (see `customers groups`)\n"


TXNS = "txn_id,customer_id,kind,date,amount\n"


def test_a_usd_amount_is_rejected_without_rates_and_converted_with_them(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "c.csv").write_text(HEADER + "C1,甲公司,1000\n", encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    path = tmp_path / "t.csv"
    path.write_text(
        TXNS + "T1,C1,order,2026-03-02,US$1000\nT2,C1,order,2026-03-05,¥2000\n", encoding="utf-8"
    )
    result = cli("import", "transactions", str(path))
    assert result.exit_code == 1
    assert "amount: amount in USD; give --rates or convert first (line 2)" in result.stderr
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2026-03-01,USD,7.10\n2026-03-03,USD,7.20\n")
    ok = cli("import", "transactions", str(path), "--rates", str(rates))
    assert ok.exit_code == 0, ok.output
    assert "1 foreign amount(s) converted (originals kept)" in ok.stderr
    amounts = _db(store_env, "SELECT external_id, amount FROM transactions ORDER BY external_id")
    assert amounts == [
        {"external_id": "T1", "amount": 710_000},
        {"external_id": "T2", "amount": 200_000},
    ]
    kept = _db(store_env, "SELECT * FROM foreign_amounts")
    assert kept == [
        {"kind": "transactions", "row_key": "T1", "field": "amount", "currency": "USD",
         "amount": 100_000, "rate": "7.10", "rate_date": "2026-03-01"}
    ]  # fmt: skip


def test_a_currency_column_and_bad_rates_files(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "c.csv").write_text(HEADER + "C1,甲公司,1000\n", encoding="utf-8")
    assert cli("import", "customers", str(tmp_path / "c.csv")).exit_code == 0
    path = tmp_path / "t.csv"
    path.write_text(TXNS.replace("\n", ",币种\n") + "T1,C1,order,2026-03-02,100,EUR\n")
    no_rates = cli("import", "transactions", str(path))
    assert "amount in EUR; give --rates or convert first" in no_rates.stderr
    missing = tmp_path / "missing.csv"
    missing.write_text("date,currency,rate\n,EUR,7.8\n")
    bad = cli("import", "transactions", str(path), "--rates", str(missing))
    assert bad.exit_code == 1
    assert bad.stderr == f"Error: rates file {missing} line 2: date is missing or invalid\n"
    late = tmp_path / "late.csv"
    late.write_text("date,currency,rate\n2026-04-01,EUR,7.8\n")
    bad = cli("import", "transactions", str(path), "--rates", str(late))
    assert bad.stderr == f"Error: rates file {late} has no EUR rate on or before 2026-03-02\n"
    assert _db(store_env, "SELECT count(*) AS n FROM transactions")[0]["n"] == 0
    good = tmp_path / "good.csv"
    good.write_text("date,currency,rate\n2026-01-01,EUR,7.8\n")
    ok = cli("import", "transactions", str(path), "--rates", str(good))
    assert ok.exit_code == 0, ok.output
    assert "ignored unknown column" not in ok.stderr
    assert _db(store_env, "SELECT amount FROM transactions") == [{"amount": 78_000}]


def test_a_legal_hold_is_recorded_with_before_and_after(
    team: dict[str, Path], store_env: Path, cli: Cli
) -> None:
    assert cli("customers", "hold", "C1", "--reason", "case 1").exit_code == 0
    assert cli("customers", "unhold", "C1", "--reason", "closed").exit_code == 0
    holds = [(c["old"], c["new"]) for c in _changes(store_env, "C1") if c["field"] == "legal_hold"]
    assert holds == [("none", "on hold"), ("on hold", "none")]


def test_limits_option_is_for_customers_only(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "t.csv"
    path.write_text(TXNS)
    result = cli("import", "transactions", str(path), "--limits", "apply")
    assert result.exit_code == 2
    assert result.stderr == "Error: --limits applies to `import customers` only\n"
    bad = cli("import", "customers", str(path), "--limits", "maybe")
    assert bad.exit_code == 2
    assert bad.stderr == "Error: --limits must be one of request, apply\n"


def test_an_import_leaves_a_pending_request_standing_and_asks_again_later(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    req = _request(cli, team, "bob", "C2", "--amount", "70000", "--reason", "new business")
    path = tmp_path / "changed.csv"
    path.write_text(HEADER + "C1,甲公司,650000\nC2,乙公司,90000\nC3,丙公司,0\n")
    result = cli("import", "customers", str(path), "-f", "json")
    assert json.loads(result.stdout)[0]["limit_requests"] == 0
    assert "1 credit limit change(s) left out: another request" in result.stderr
    assert as_user(cli, team, "dan", "limits", "approve", str(req["request"])).exit_code == 0
    again = cli("import", "customers", str(path), "-f", "json")
    assert json.loads(again.stdout)[0]["limit_requests"] == 1
    assert _limit(store_env, "C2") == 7_000_000


def test_show_list_expire_and_usage_errors(team: dict[str, Path], cli: Cli) -> None:
    req = _request(cli, team, "bob", "C1", "--amount", "700000", "--reason", "review")
    shown = json.loads(cli("limits", "show", str(req["request"]), "-f", "json").stdout)
    assert shown == req
    mine = json.loads(cli("limits", "list", "--customer", "C1", "-f", "json").stdout)
    assert [r["request"] for r in mine] == [req["request"]]
    assert cli("limits", "list", "--customer", "C2", "-f", "json").stdout.strip() == "[]"
    expired = json.loads(cli("limits", "expire", "-f", "json").stdout)
    assert expired == {"requests_expired": 0, "limits_fell_back": 0}
    for args, code, message in (
        (("limits", "show", "99"), 1, "Error: no limit request 99\n"),
        (("limits", "approve", "99"), 1, "Error: no limit request 99\n"),
        (("limits", "list", "--expiring", "soon"), 2,
         "Error: --expiring takes a number of days like 30d, not 'soon'\n"),
        (("limits", "request", "--amount", "5", "--reason", "review"), 2,
         "Error: give a customer ID or --group G (one of them)\n"),
        (("limits", "request", "C1", "--amount", "5"), 2, "Error: --reason CODE is required\n"),
        (("limits", "request", "C2", "--amount", "-5", "--reason", "review"), 1,
         "Error: --amount must be 0 or more\n"),
    ):  # fmt: skip
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (code, message), args


def test_a_file_without_the_credit_columns_keeps_them(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    full = tmp_path / "full.csv"
    full.write_text("customer_id,name,credit_limit,status,group_id\nC1,甲公司,650000,冻结,G1\n")
    assert cli("import", "customers", str(full)).exit_code == 0
    bare = tmp_path / "bare.csv"
    bare.write_text("customer_id,name,region\nC1,甲公司,华东\n", encoding="utf-8")
    result = cli("import", "customers", str(bare), "-f", "json")
    assert json.loads(result.stdout)[0]["limit_requests"] == 0
    row = _db(store_env, "SELECT credit_limit, status, group_id, region FROM customers "
                         "WHERE external_id = 'C1'")  # fmt: skip
    assert row == [{"credit_limit": 65_000_000, "status": "suspended", "group_id": "G1",
                    "region": "华东"}]  # fmt: skip
    assert [c["field"] for c in _changes(store_env, "C1")] == ["status", "group_id"]


def test_import_book_turns_a_changed_limit_into_a_pending_request(
    team: dict[str, Path], store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()
    (folder / "customers.csv").write_text(HEADER + "C1,甲公司,5000000\nC2,乙公司,50000\n")
    result = as_user(cli, team, "bob", "import", "book", str(folder), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "1 credit limit change(s) became pending request(s)" in result.stderr
    assert _limit(store_env, "C1") == 65_000_000  # unchanged until another user approves
    pending = json.loads(cli("limits", "list", "--pending", "-f", "json").stdout)
    assert [(p["customer_id"], p["amount"], p["reason"]) for p in pending] == [
        ("C1", 5000000, "import")
    ]
