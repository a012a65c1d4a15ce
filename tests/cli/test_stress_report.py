"""`riskcli report stress`: the scenario beside the base case; --pd-multiplier 1 is the base."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services.reports import stress
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
EXAMPLES = Path(__file__).parents[2] / "examples"
KINDS = ("customers", "transactions", "receivables", "credit-reports", "financials")


@pytest.fixture
def book(store_env: Path, cli: Cli) -> Path:
    for kind in KINDS:
        path = EXAMPLES / f"{kind.replace('-', '_')}.csv"
        assert cli("import", kind, str(path)).exit_code == 0
    assert cli("score", "expert").exit_code == 0
    # as of the book's latest activity: the date `report stress` reads by default
    assert cli("score", "run").exit_code == 0
    return store_env


def _report(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("report", "stress", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _section(report: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in report["sections"] if s["key"] == key)


def _summary(report: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {r["metric"]: (r["base"], r["stressed"]) for r in _section(report, "summary")["rows"]}


def test_a_multiplier_of_one_equals_the_base_case(book: Path, cli: Cli) -> None:
    report = _report(cli, "--pd-multiplier", "1")
    summary = _summary(report)
    assert summary["scored_customers"][0] > 0
    assert summary["expected_loss"][0] > 0
    assert all(base == stressed for base, stressed in summary.values()), summary
    for row in _section(report, "grades")["rows"]:
        assert row["base_customers"] == row["stressed_customers"]
    for key in ("concentration_industry", "concentration_region"):
        assert all(r["base_el"] == r["stressed_el"] for r in _section(report, key)["rows"])
    assert _section(report, "movers")["rows"] == []
    assert _section(report, "limit_breaches")["rows"] == []


def test_el_is_pd_times_lgd_times_ead_and_the_shift_hits_only_its_industry(
    book: Path, cli: Cli
) -> None:
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        frame, _ = stress.stressed_book(
            s, stress.Scenario(shifts=[stress.parse_shift("industry=建筑业:+0.05")]),
            as_of=None, loss=stress.configured_loss({}),
        )  # fmt: skip
    expected = (frame["base_pd"] * 0.40 * frame["exposure"]).round().astype("int64")
    assert (frame["base_el"] == expected).all()
    hit = frame["industry"] == "建筑业"
    assert hit.any()
    rise = frame["stressed_pd"] - frame["base_pd"]
    cap = (1 - frame.loc[hit, "base_pd"]).clip(upper=0.05)
    assert np.allclose(rise[hit], cap)
    assert (rise[~hit] == 0).all()
    report = _report(cli, "--pd-shift", "industry=建筑业:+0.05")
    assert all(r["industry"] == "建筑业" for r in _section(report, "movers")["rows"])
    assert _summary(report)["mean_pd"][1] > _summary(report)["mean_pd"][0]


def test_a_default_puts_pd_to_one_and_lgd_applies(book: Path, cli: Cli) -> None:
    report = _report(cli, "--default", "largest", "--lgd", "0.6")
    assert report["params"]["lgd_stressed"] == 0.6
    defaulted = report["params"]["defaults"]
    assert defaulted
    mover = next(r for r in _section(report, "movers")["rows"] if r["customer_id"] == defaulted)
    assert (mover["stressed_pd"], mover["stressed_grade"]) == (1.0, "DF")
    assert Decimal(str(mover["stressed_el"])) == (
        Decimal(str(mover["exposure"])) * Decimal("0.6")
    ).quantize(Decimal("0.01"))
    assert _section(report, "provisions")["available"] is False


def test_a_scenario_file_and_every_format(book: Path, cli: Cli, tmp_path: Path) -> None:
    scenario = tmp_path / "recession.toml"
    scenario.write_text(
        'name = "recession"\npd_multiplier = 1.5\nlgd = 0.5\npd_shift = ["region=华东:+0.02"]\n',
        encoding="utf-8",
    )
    report = _report(cli, "--scenario", str(scenario))
    assert report["title"].startswith("Stress test 'recession' as of 2026-09-29")
    assert report["params"]["pd_multiplier"] == 1.5
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        counts = s.row_counts()
    for fmt in ("table", "csv", "xlsx", "html"):
        out = tmp_path / f"stress.{fmt}"
        args = ["--format", fmt] + ([] if fmt == "table" else ["-o", str(out)])
        result = cli("report", "stress", "--scenario", str(scenario), *args)
        assert result.exit_code == 0, result.output
        assert fmt == "table" or out.stat().st_size > 0
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        after = s.row_counts()
        last = s.query("SELECT action, command FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in counts.items() if k != "audit_events"
    }  # nothing stored but the record of the run
    assert last == [{"action": "report.read", "command": "riskcli report stress"}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pd-shift", "industry=造船业:+0.05"),
         "Error: --pd-shift: no customer has industry '造船业'"),
        (("--pd-shift", "sector=建筑业:+0.05"),
         "Error: --pd-shift 'sector=建筑业:+0.05': use industry=NAME:+0.05 or "
         "region=NAME:+0.05 (PD points)"),
        (("--default", "C99999999"), "Error: --default: customer C99999999 does not exist"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_1(
    book: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli("report", "stress", *args, "--format", "json")
    assert (result.exit_code, result.stderr.strip(), result.stdout) == (1, message, "")


def test_a_scenario_file_with_an_unknown_key_is_refused(
    book: Path, cli: Cli, tmp_path: Path
) -> None:
    scenario = tmp_path / "typo.toml"
    scenario.write_text("pd_multipler = 2\n", encoding="utf-8")
    result = cli("report", "stress", "--scenario", str(scenario))
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: scenario file typo.toml: unknown key 'pd_multipler'"


def test_no_score_run_says_so(store_env: Path, cli: Cli) -> None:
    result = cli("report", "stress")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: no score run to stress (run `riskcli score run` first)"
    )


def test_a_milder_case_never_improves_a_grade_nor_cures_a_default(book: Path, cli: Cli) -> None:
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        frame, _ = stress.stressed_book(
            s, stress.Scenario(pd_multiplier=0.5), as_of=None, loss=stress.configured_loss({})
        )
    assert (frame["stressed_grade"] == frame["base_grade"]).all()
    in_default = frame["base_grade"] == "DF"
    assert (frame.loc[in_default, "stressed_pd"] == 1.0).all()
    assert np.allclose(frame.loc[~in_default, "stressed_pd"], frame.loc[~in_default, "base_pd"] / 2)
