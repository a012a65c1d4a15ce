"""`riskcli report` through the CLI on a real encrypted store with known data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.store import open_store

Cli = Callable[..., Any]
AS_OF = "2026-06-30"

CUSTOMERS = [
    # external_id, name, industry, region, phone, email, national_id, credit_limit (cents)
    (
        "C1",
        "华东钢铁有限公司",
        "steel",
        "华东",
        "13812345678",
        "a@x.cn",
        "91310000MA1FL0XX12",
        10_000_000,
    ),
    ("C2", '=HYPERLINK("http://evil")', "=SUM(1+1)", "华南", None, None, None, 5_000_000),
    ("C3", "Retail Co", "retail", "华东", "13900001111", None, None, 0),
]
RECEIVABLES = [
    # invoice, customer, issue, due, amount, paid, paid_date
    ("I1", "C1", "2026-06-01", "2026-07-01", 100_000, 0, None),  # current 1000.00
    ("I2", "C1", "2026-04-01", "2026-05-15", 250_000, 50_000, "2026-05-20"),  # 46 dpd 2000.00
    ("I3", "C2", "2026-01-01", "2026-02-01", 300_000, 0, None),  # 149 dpd 3000.00
    ("I4", "C3", "2026-06-01", "2026-06-20", 40_000, 0, None),  # 10 dpd 400.00
    ("I5", "C3", "2026-05-01", "2026-05-30", 70_000, 70_000, "2026-06-01"),  # paid
    ("I6", "C3", "2026-06-01", "2026-06-25", 10_000, 10_000, "2026-07-05"),  # paid later: 100.00
    ("I7", "C3", "2026-07-01", "2026-08-01", 99_000, 0, None),  # issued after the as-of date
]


@pytest.fixture
def book(store_env: Path) -> Path:
    store = open_store(store_env, USER, PASSPHRASE.encode())
    try:
        with store.transaction():
            for c in CUSTOMERS:
                store.execute(
                    "INSERT INTO customers (external_id, name, industry, region, phone, email, "
                    "national_id, credit_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    c,
                )
            ids = {
                r["external_id"]: r["id"]
                for r in store.query("SELECT id, external_id FROM customers")
            }
            for inv, cust, issue, due, amount, paid, paid_date in RECEIVABLES:
                store.execute(
                    "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                    "amount, paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (inv, ids[cust], issue, due, amount, paid, paid_date),
                )
            store.execute(
                "INSERT INTO credit_reports (customer_id, provider, report_date, score, rating, "
                "lawsuit) VALUES (?, 'bureau', '2026-05-01', 712, 'BBB', 1)",
                (ids["C1"],),
            )
            store.execute(
                "INSERT INTO contracts (contract_number, customer_id, signed_date, start_date, "
                "end_date, value, status) VALUES ('K1', ?, '2025-07-01', '2025-07-01', "
                "'2026-07-31', 12000000, 'active')",
                (ids["C1"],),
            )
            store.execute(
                "INSERT INTO interactions (external_id, customer_id, kind, date, satisfaction, "
                "note) VALUES ('X1', ?, 'complaint', '2026-06-10', 2, 'late delivery')",
                (ids["C1"],),
            )
    finally:
        store.close()
    return store_env


def _section(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in payload["sections"] if s["key"] == key)


def test_portfolio_json_has_every_section_and_known_totals(book: Path, cli: Cli) -> None:
    result = cli("report", "portfolio", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["report"] == "portfolio"
    aging = {r["bucket"]: r for r in _section(payload, "aging")["rows"]}
    assert {k: aging[k]["amount"] for k in aging} == {
        "current": 1000,
        "1-30": 500,
        "31-60": 2000,
        "61-90": 0,
        "90+": 3000,
    }
    assert sum(r["invoices"] for r in aging.values()) == 5
    industry = _section(payload, "concentration_industry")
    assert sum(r["customers"] for r in industry["rows"]) == 3
    assert industry["facts"]["hhi_exposure"] == pytest.approx(
        (3000 / 6500) ** 2 + (3000 / 6500) ** 2 + (500 / 6500) ** 2, abs=1e-5
    )
    # without tiering/scoring data the sections are there and say why they are empty
    for key in ("exposure_by_tier", "exposure_by_grade", "top_expected_loss", "grade_migration"):
        sec = _section(payload, key)
        if not sec["available"]:
            assert sec["note"] and sec["rows"] == []


def test_portfolio_csv_one_section_is_a_plain_table_with_bom_and_no_injection(
    book: Path, cli: Cli
) -> None:
    result = cli(
        "report",
        "portfolio",
        "--as-of",
        AS_OF,
        "-f",
        "csv",
        "--section",
        "concentration_industry",
        "--excel",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("\ufeffindustry,customers,")
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert {r["industry"] for r in rows} == {"steel", "'=SUM(1+1)", "retail"}
    assert sum(Decimal(r["exposure"]) for r in rows) == Decimal("6500")


def test_portfolio_csv_all_sections_are_blocks(book: Path, cli: Cli) -> None:
    result = cli("report", "portfolio", "--as-of", AS_OF, "-f", "csv")
    assert result.exit_code == 0
    heads = [ln for ln in result.stdout.splitlines() if ln.startswith("# ")]
    assert heads[0] == "# summary"
    assert "# aging" in heads
    assert not result.stdout.startswith("\ufeff")


def test_portfolio_table_shows_bars(book: Path, cli: Cli) -> None:
    result = cli("report", "portfolio", "--as-of", AS_OF, "-f", "table")
    assert result.exit_code == 0, result.stderr
    assert "Receivables aging" in result.stdout
    assert "█" * 20 in result.stdout  # the largest bucket has the full bar
    assert "3,000.00" in result.stdout  # money formatted, never cut


def test_portfolio_html_and_xlsx_files(book: Path, cli: Cli, tmp_path: Path) -> None:
    html = tmp_path / "p.html"
    result = cli("report", "portfolio", "--as-of", AS_OF, "-f", "html", "-o", str(html))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(html)
    assert stat.S_IMODE(html.stat().st_mode) == 0o600
    text = html.read_text(encoding="utf-8")
    assert 'data-section="aging"' in text and "<svg" in text
    assert "&#x27;=SUM(1+1)" in text or "=SUM(1+1)" in text  # escaped text, not markup

    again = cli("report", "portfolio", "--as-of", AS_OF, "-f", "html", "-o", str(html))
    assert again.exit_code == 1
    assert (
        again.stderr == f"Error: {html} exists; use --force to replace it (a .bak copy is kept)\n"
    )
    forced = cli("report", "portfolio", "--as-of", AS_OF, "-o", str(html), "--force")
    assert forced.exit_code == 0
    assert (tmp_path / "p.html.bak").read_text(encoding="utf-8") == text

    xlsx = tmp_path / "p.xlsx"
    result = cli("report", "portfolio", "--as-of", AS_OF, "-o", str(xlsx))
    assert result.exit_code == 0, result.stderr
    wb = load_workbook(xlsx)
    ws = wb["concentration_industry"]
    values = [c.value for c in ws["A"]][1:]
    assert "'=SUM(1+1)" in values
    assert all(isinstance(c.value, float | int) for c in ws["D"][1:])


def test_bad_dates_and_sections(book: Path, cli: Cli) -> None:
    r = cli("report", "portfolio", "--as-of", "30/06/2026")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: Invalid value for '--as-of': '30/06/2026' is not a date; use YYYY-MM-DD or today\n"
    )
    r = cli("report", "portfolio", "--as-of", AS_OF, "--compare", "2026-07-01")
    assert r.exit_code == 1
    assert "must be before the as-of date" in r.stderr
    r = cli("report", "portfolio", "--section", "nope")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: unknown section 'nope'; choose from: summary,")
    r = cli("report", "portfolio", "-f", "table", "-o", "x.txt")
    assert r.exit_code == 2


def test_customer_profile_masks_unless_revealed(book: Path, cli: Cli) -> None:
    result = cli("report", "customer", "C1", "--as-of", AS_OF, "-f", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    identity = {r["field"]: r["value"] for r in _section(payload, "identity")["rows"]}
    assert identity["phone"] == "138****5678"
    assert "13812345678" not in result.stdout
    assert "91310000MA1FL0XX12" not in result.stdout
    limit = {r["metric"]: r["value"] for r in _section(payload, "limit")["rows"]}
    assert limit["exposure"] == 3000
    assert limit["utilisation"] == pytest.approx(0.03)
    aging = {r["bucket"]: r["amount"] for r in _section(payload, "aging")["rows"]}
    assert aging["current"] == 1000 and aging["31-60"] == 2000
    assert _section(payload, "credit_reports")["facts"]["adverse_flags"] == "lawsuit"
    assert _section(payload, "interactions")["facts"]["complaints"] == 1
    assert _section(payload, "contracts")["facts"]["expiring_90d"] == 1

    revealed = cli("report", "customer", "C1", "--as-of", AS_OF, "-f", "json", "--reveal")
    assert revealed.exit_code == 0
    assert "13812345678" in revealed.stdout


def test_customer_unknown_id(book: Path, cli: Cli) -> None:
    result = cli("report", "customer", "NOPE")
    assert result.exit_code == 1
    assert result.stderr == "Error: no customer with id 'NOPE'\n"


def test_customer_html(book: Path, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "c1.html"
    result = cli("report", "customer", "C1", "--as-of", AS_OF, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "138****5678" in text and "13812345678" not in text
    assert 'data-section="credit_reports"' in text


def test_audit_report_counts_the_report_commands(book: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("report", "portfolio", "--as-of", AS_OF, "-f", "json").exit_code == 0
    out = tmp_path / "audit.xlsx"
    assert cli("report", "customer", "C1", "-o", str(tmp_path / "c.html")).exit_code == 0
    today = dt.date.today().isoformat()
    result = cli("report", "audit", "--period", today, "-f", "json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["sections"][0]["key"] == "overview"
    access = _section(payload, "access")
    assert any(r["action"] == "report.read" for r in access["rows"])
    pii = _section(payload, "pii")  # writing a report to a file is an export
    assert any(r["action"] == "report.customer" for r in pii["rows"])
    result = cli("report", "audit", "--period", today, "-o", str(out))
    assert result.exit_code == 0
    assert "access" in load_workbook(out).sheetnames


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "jsonl", "html", "xlsx"])
def test_empty_store_reports_in_every_format(
    store_env: Path, cli: Cli, tmp_path: Path, fmt: str
) -> None:
    args = ["report", "portfolio", "-f", fmt]
    if fmt in ("html", "xlsx"):
        args += ["-o", str(tmp_path / f"empty.{fmt}")]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        payload = json.loads(result.stdout)
        summary = {r["metric"]: r["value"] for r in _section(payload, "summary")["rows"]}
        assert summary["customers"] == 0 and summary["exposure"] == 0
    if fmt == "html":
        assert (tmp_path / "empty.html").read_text(encoding="utf-8").count("<section") == 13


def _add_user(book: Path, name: str, role: str) -> None:
    try:
        from riskcli.services.access import add_user
    except ImportError as exc:  # the access capability is another engineer's, still landing
        pytest.skip(f"riskcli.services.access is not importable: {exc}")

    store = open_store(book, USER, PASSPHRASE.encode())
    try:
        add_user(store, name, role, secret=f"{name} passphrase long enough".encode())
    finally:
        store.close()


@pytest.mark.parametrize(
    ("role", "args", "code"),
    [
        ("viewer", ("report", "portfolio", "-f", "json"), 0),
        ("viewer", ("report", "customer", "C1", "-f", "json"), 0),
        ("viewer", ("report", "customer", "C1", "-f", "json", "--reveal"), 3),
        ("viewer", ("report", "audit", "-f", "json"), 3),
        ("auditor", ("report", "audit", "-f", "json"), 0),
        ("auditor", ("report", "customer", "C1", "--reveal"), 3),
        ("auditor", ("report", "customer", "C1", "-f", "json"), 3),
        ("auditor", ("report", "portfolio", "-f", "json"), 0),
        ("operator", ("report", "portfolio", "-f", "json"), 3),
        ("analyst", ("report", "customer", "C1", "-f", "json", "--reveal"), 0),
    ],
)
def test_roles(
    book: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    role: str,
    args: tuple[str, ...],
    code: int,
) -> None:
    name = f"{role}1"
    _add_user(book, name, role)
    monkeypatch.setenv("RISKCLI_USER", name)
    monkeypatch.setenv("RISKCLI_PASSPHRASE", f"{name} passphrase long enough")
    result = cli(*args)
    assert result.exit_code == code, result.stderr
    if code == 3:
        assert result.stderr.startswith(f"Error: user {name} (role {role}) may not ")
        assert result.stdout == ""
    elif "--reveal" not in args:
        assert "13812345678" not in result.stdout


def test_narrow_terminal_wraps_and_never_crops(
    book: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("report", "customer", "C1", "--as-of", AS_OF, "-f", "table")
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 60
    assert "…" not in result.stdout
    assert "100,000.00" in result.stdout  # the credit limit, whole


def test_reports_read_in_the_books_language_and_currency(
    book: Path, cli: Cli, tmp_path: Path
) -> None:
    html = tmp_path / "en.html"
    assert (
        cli("report", "portfolio", "--as-of", AS_OF, "-f", "html", "-o", str(html)).exit_code == 0
    )
    english = html.read_text(encoding="utf-8")
    assert "Customers with exposure" in english and "Exposure (CNY)" in english
    assert "customers_with_exposure</dt>" not in english
    config = tmp_path / "book.toml"
    config.write_text('[book]\nlanguage = "zh"\ncurrency = "USD"\n', encoding="utf-8")
    zh = tmp_path / "zh.html"
    run = cli("--config", str(config), "report", "portfolio", "--as-of", AS_OF, "-f", "html",
              "-o", str(zh))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    chinese = zh.read_text(encoding="utf-8")
    assert "客户数" in chinese and "敞口（USD）" in chinese and 'lang="zh"' in chinese
    config.write_text('[book]\nlanguage = "fr"\n', encoding="utf-8")
    bad = cli("--config", str(config), "report", "portfolio", "-f", "json")
    assert bad.exit_code == 1
    assert bad.stderr == "Error: [book] language must be one of en, zh, not 'fr'\n"
