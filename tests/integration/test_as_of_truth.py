"""As-of truth: a run as of D on the full store equals the run on a store built only from the
rows dated on or before D (riskcli.services.book is the one definition both go through)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.store import open_store

GENERATED_AS_OF = "2026-09-30"
KINDS = (
    "customers",
    "transactions",
    "receivables",
    "credit_reports",
    "contracts",
    "interactions",
    "financials",
)


def generate(cli: Callable[..., Any], out: Path, customers: int = 400, seed: int = 5) -> Path:
    result = cli("generate", str(out), "-n", str(customers), "--seed", str(seed),
                 "--as-of", GENERATED_AS_OF)  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _period_end(period: pd.Series) -> pd.Series:
    """YYYY -> Dec 31, YYYYQn -> quarter end, YYYY-MM -> month end (as the book reads them)."""
    text = period.astype(str)
    year = text.str[:4]
    quarter = {"1": "03-31", "2": "06-30", "3": "09-30", "4": "12-31"}
    end = pd.Series(year + "-12-31", index=period.index)
    q = text.str.len() == 6
    end[q] = year[q] + "-" + text[q].str[5].map(quarter)
    m = text.str.len() == 7
    month_end = pd.to_datetime(text[m] + "-01") + pd.offsets.MonthEnd(0)
    end[m] = month_end.dt.strftime("%Y-%m-%d")
    return end


def truncate(source: Path, out: Path, day: date) -> Path:
    """The generated files as they would have been exported on `day`: rows dated after it left
    out, payments made after it not yet made."""
    d = day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    frames = {k: pd.read_csv(source / f"{k}.csv", dtype=str, keep_default_na=False) for k in KINDS}
    c = frames["customers"]
    c = c[(c["registered_date"] == "") | (c["registered_date"] <= d)]
    known = set(c["customer_id"])
    dated = {
        "transactions": "date",
        "credit_reports": "report_date",
        "interactions": "date",
        "receivables": "issue_date",
    }
    kept = {"customers": c}
    for kind, column in dated.items():
        f = frames[kind]
        kept[kind] = f[(f[column] <= d) & f["customer_id"].isin(known)].copy()
    r = kept["receivables"]
    later = r["paid_date"] > d
    r.loc[later, "paid_amount"] = "0.00"
    r.loc[later, "paid_date"] = ""
    f = frames["financials"]
    kept["financials"] = f[(_period_end(f["period"]) <= d) & f["customer_id"].isin(known)]
    k = frames["contracts"]
    signed = k["signed_date"].where(k["signed_date"] != "", k["start_date"])
    kept["contracts"] = k[(signed <= d) & k["customer_id"].isin(known)]
    for kind, frame in kept.items():
        frame.to_csv(out / f"{kind}.csv", index=False)
    return out


def load(cli: Callable[..., Any], db: Path, data: Path) -> None:
    assert cli("--db", str(db), "init").exit_code == 0
    for kind in KINDS:
        rejects = str(data / f"{kind}.rejects.csv")
        command = ("import", kind.replace("_", "-"), str(data / f"{kind}.csv"))
        result = cli("--db", str(db), *command, "--max-rejects", "10", "--rejects", rejects)
        assert result.exit_code == 0, result.output


def _scores(db: Path) -> pd.DataFrame:
    with open_store(db, USER, PASSPHRASE.encode()) as store:
        return store.query_df(
            "SELECT c.external_id, s.score, s.pd, s.grade, s.reasons, s.bins, "
            "s.recommended_limit, s.over_limit, s.exposure, s.expected_loss FROM scores s "
            "JOIN customers c ON c.id = s.customer_id "
            "WHERE s.run_id = (SELECT max(id) FROM score_runs) ORDER BY c.external_id"
        ).reset_index(drop=True)


def _tiers(db: Path) -> pd.DataFrame:
    with open_store(db, USER, PASSPHRASE.encode()) as store:
        return store.query_df(
            "SELECT c.external_id, t.tier, t.segment, t.stage, t.monetary FROM tier_results t "
            "JOIN customers c ON c.id = t.customer_id "
            "WHERE t.run_id = (SELECT max(id) FROM tier_runs) ORDER BY c.external_id"
        ).reset_index(drop=True)


@pytest.mark.slow
def test_score_and_tier_runs_as_of_a_date_never_see_later_rows(
    store_env: Path, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    data = generate(cli, tmp_path / "data")
    full = tmp_path / "full.db"
    load(cli, full, data)
    assert cli("--db", str(full), "score", "expert").exit_code == 0
    for day in (date(2025, 12, 31), date(2026, 5, 17), date(2026, 8, 31)):
        cut = tmp_path / f"cut-{day}.db"
        load(cli, cut, truncate(data, tmp_path / f"data-{day}", day))
        assert cli("--db", str(cut), "score", "expert").exit_code == 0
        for db in (full, cut):
            for command in (("score", "run"), ("tier", "run")):
                result = cli("--db", str(db), *command, "--as-of", day.isoformat())
                assert result.exit_code == 0, result.output
        got, want = _scores(full), _scores(cut)
        # customers registered after D are not scored as of D
        assert len(want) > 100 and got["external_id"].tolist() == want["external_id"].tolist()
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)
        assert (got["grade"] == "DF").any(), "the book should hold defaults by then"
        pd.testing.assert_frame_equal(_tiers(full), _tiers(cut))
