"""End to end: generated files -> import -> score (twice) -> monitor -> tier -> reports.

Runs the other capabilities' real commands, so the report reads exactly what they store. A step
whose command is not installed yet is skipped (its report sections then say so), never faked.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from tests.conftest import PASSPHRASE, USER

from riskcli.cli.app import app

KINDS = ("customers", "transactions", "receivables", "credit_reports", "contracts", "interactions")


def _has(*path: str) -> bool:
    """Whether `riskcli <path>` exists (asked through get_command: sub-apps load lazily)."""
    import typer

    command: Any = typer.main.get_command(app)
    for name in path:
        get = getattr(command, "get_command", None)
        command = get(None, name) if get is not None else None
        if command is None:
            return False
    return True


def _ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout[-1500:], result.stderr[-1500:])
    return result


def _need(pipeline: dict[str, Any], capability: str) -> None:
    why = pipeline["steps"].get(capability, "not run")
    if why:
        pytest.skip(why)


def _section(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in payload["sections"] if s["key"] == key)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One store through every step that exists; module-scoped because it is not cheap."""
    from typer.testing import CliRunner

    tmp = tmp_path_factory.mktemp("pipeline")
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "200")
    mp.setenv("NO_COLOR", "1")
    mp.setenv("RISKCLI_DB", str(tmp / "book.db"))
    mp.setenv("RISKCLI_USER", USER)
    mp.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    for var in ("RISKCLI_CONFIG", "RISKCLI_ANCHOR", "RISKCLI_PASSPHRASE_FILE"):
        mp.delenv(var, raising=False)
    runner = CliRunner()

    def cli(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    # capability -> "" when its steps ran, else why not (their own tests cover their failures;
    # here a failed step only skips the report tests that need its data)
    steps: dict[str, str] = {}

    def step(name: str, needs: list[tuple[str, ...]], calls: list[tuple[str, ...]]) -> None:
        if not all(_has(*n) for n in needs):
            steps[name] = f"{name} commands not installed yet"
            return
        for call in calls:
            result = cli(*call)
            if result.exit_code not in (0, 10):  # 10: monitoring found alerts
                last = (result.stderr.strip().splitlines() or ["?"])[-1]
                steps[name] = f"`riskcli {' '.join(call)}` failed: {last}"
                return
        steps[name] = ""

    try:
        _ok(cli("init"))
        if not (_has("generate") and _has("import", "customers")):
            pytest.skip("generate/import commands are not installed yet")
        _ok(cli("generate", str(tmp / "data"), "--customers", "400", "--as-of", "2026-09-30"))
        for kind in KINDS:
            _ok(cli("import", kind.replace("_", "-"), str(tmp / "data" / f"{kind}.csv")))
        step(
            "score",
            [("score", "run"), ("score", "expert")],
            [
                ("score", "expert", "-f", "json"),
                ("score", "run", "--as-of", "2026-06-30", "-f", "json"),
                ("score", "run", "--as-of", "2026-09-30", "-f", "json"),
            ],
        )
        step(
            "monitor",
            [("monitor", "run")],
            [("monitor", "run", "--as-of", "2026-09-30", "-f", "json")],
        )
        step("tier", [("tier", "run")], [("tier", "run", "--as-of", "2026-09-30")])
        portfolio = json.loads(
            _ok(cli("report", "portfolio", "--as-of", "2026-09-30", "-f", "json")).stdout
        )
        html_path = tmp / "portfolio.html"
        _ok(cli("report", "portfolio", "--as-of", "2026-09-30", "-o", str(html_path)))
        xlsx_path = tmp / "portfolio.xlsx"
        _ok(cli("report", "portfolio", "--as-of", "2026-09-30", "-o", str(xlsx_path)))
        top = _section(portfolio, "top_expected_loss")
        some_id = top["rows"][0]["customer_id"] if top["available"] else "C00000001"
        customer = json.loads(
            _ok(cli("report", "customer", some_id, "--as-of", "2026-09-30", "-f", "json")).stdout
        )
        env = {k: v for k, v in os.environ.items() if k.startswith(("RISKCLI_", "COLUMNS"))}

        def run(*args: str) -> Any:
            return runner.invoke(app, list(args), catch_exceptions=False, env=env)

        return {
            "run": run,
            "steps": steps,
            "portfolio": portfolio,
            "customer": customer,
            "html": html_path.read_text(encoding="utf-8"),
            "xlsx": xlsx_path,
        }
    finally:
        mp.undo()


def test_core_sections_add_up(pipeline: dict[str, Any]) -> None:
    p = pipeline["portfolio"]
    summary = {r["metric"]: r["value"] for r in _section(p, "summary")["rows"]}
    assert summary["customers"] == 400
    aging = _section(p, "aging")["rows"]
    total = sum(Decimal(str(r["amount"])) for r in aging)
    assert total == Decimal(str(summary["exposure"]))
    for key in ("concentration_industry", "concentration_region"):
        rows = _section(p, key)["rows"]
        assert sum(r["customers"] for r in rows) == 400
        assert sum(Decimal(str(r["exposure"])) for r in rows) == total


def test_score_sections_read_the_real_score_runs(pipeline: dict[str, Any]) -> None:
    _need(pipeline, "score")
    p = pipeline["portfolio"]
    by_grade = _section(p, "exposure_by_grade")
    assert by_grade["available"]
    assert sum(r["customers"] for r in by_grade["rows"]) == 400
    assert p["params"]["score_run"].startswith("score run 2")
    migration = _section(p, "grade_migration")
    assert migration["available"], migration["note"]
    cells = sum(v for r in migration["rows"] for k, v in r.items() if k != "from_grade")
    assert cells == migration["facts"]["customers"]
    assert _section(p, "score_stability")["facts"]["psi"] >= 0
    top = _section(p, "top_expected_loss")["rows"]
    assert len(top) == 10
    assert all(0 <= r["pd"] <= 1 for r in top)
    score = _section(pipeline["customer"], "score")
    assert score["available"] and 1 <= len(score["rows"]) <= 2  # both runs, oldest first
    assert score["rows"][-1]["run_id"] == 2
    reasons = _section(pipeline["customer"], "reasons")
    assert reasons["available"] and 1 <= len(reasons["rows"]) <= 4
    assert all(r["reason"] for r in reasons["rows"])
    assert score["rows"][-1]["grade"] == top[0]["grade"]


def test_alert_sections_read_the_real_alerts(pipeline: dict[str, Any]) -> None:
    _need(pipeline, "monitor")
    p = pipeline["portfolio"]
    by_sev = _section(p, "alerts_by_severity")
    by_rule = _section(p, "alerts_by_rule")
    assert by_sev["available"] and by_rule["available"]
    assert sum(r["open_alerts"] for r in by_sev["rows"]) == sum(r["total"] for r in by_rule["rows"])
    assert _section(pipeline["customer"], "alerts")["available"]


def test_tier_sections_read_the_real_tier_run(pipeline: dict[str, Any]) -> None:
    _need(pipeline, "tier")
    p = pipeline["portfolio"]
    by_tier = _section(p, "exposure_by_tier")
    assert by_tier["available"], by_tier["note"]
    assert sum(r["customers"] for r in by_tier["rows"]) == 400
    matrix = _section(p, "grade_tier_matrix")
    if matrix["available"]:
        cells = sum(v for r in matrix["rows"] for k, v in r.items() if k != "grade")
        assert cells == 400
    assert _section(pipeline["customer"], "tier")["available"]


def test_html_and_xlsx_of_the_real_store(pipeline: dict[str, Any]) -> None:
    html = pipeline["html"]
    available = [s["key"] for s in pipeline["portfolio"]["sections"] if s["available"]]
    for key in available:
        assert f'data-section="{key}"' in html
    assert html.count("<svg") >= 4
    wb = load_workbook(pipeline["xlsx"])
    assert wb.sheetnames[0] == "index"
    assert set(available) <= set(wb.sheetnames)


def test_compare_dates_pick_score_runs(pipeline: dict[str, Any]) -> None:
    _need(pipeline, "score")
    run = pipeline["run"]
    same = json.loads(
        _ok(
            run(
                "report",
                "portfolio",
                "--as-of",
                "2026-08-31",
                "--compare",
                "2026-07-31",
                "-f",
                "json",
                "-s",
                "grade_migration",
            )
        ).stdout
    )
    note = same["sections"][0]["note"]
    assert not same["sections"][0]["available"] and "pick the same score run" in note
    early = json.loads(
        _ok(
            run(
                "report",
                "portfolio",
                "--as-of",
                "2026-09-30",
                "--compare",
                "2026-01-01",
                "-f",
                "json",
                "-s",
                "score_stability",
            )
        ).stdout
    )
    assert "no score run on or before --compare 2026-01-01" in early["sections"][0]["note"]
    explicit = json.loads(
        _ok(
            run(
                "report",
                "portfolio",
                "--as-of",
                "2026-09-30",
                "--compare",
                "2026-07-15",
                "-f",
                "json",
                "-s",
                "grade_migration",
            )
        ).stdout
    )
    assert explicit["sections"][0]["available"]
    assert "score run 1" in explicit["sections"][0]["title"]
