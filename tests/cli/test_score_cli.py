"""`riskcli score` through the CLI: formats, exit codes, exact error lines, nothing stored."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.credit_sample import credit_frame, populate_store

from riskcli.storage.store import open_store

PASSPHRASE = "correct horse battery staple"
Cli = Callable[..., Any]


@pytest.fixture
def book(store_env: Path) -> Path:
    store = open_store(store_env, "alice", PASSPHRASE.encode())
    try:
        populate_store(store, 1500, seed=9)
    finally:
        store.close()
    return store_env


def _count(path: Path, table: str) -> int:
    store = open_store(path, "alice", PASSPHRASE.encode())
    try:
        return int(store.scalar(f"SELECT COUNT(*) FROM {table}"))
    finally:
        store.close()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    frame, y, _ = credit_frame(3000, seed=4)
    frame.insert(0, "customer_id", [f"K{i:05d}" for i in range(len(frame))])
    frame["defaulted"] = np.where(y == 1, "yes", "no")
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_from_file_then_apply_and_export(cli: Cli, store_env: Path, history: Path) -> None:
    result = cli(
        "score", "train", "--data", str(history), "--target", "defaulted", "--bad", "yes",
        "--exclude", "customer_id", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    model = json.loads(result.stdout)
    assert model["status"] == "champion" and model["auc"] > 0.8
    assert "registered history v1 (model 1) as champion" in result.stderr
    assert "noise_1 (information value" in result.stderr
    applied = cli("score", "apply", "champion", "--data", str(history), "--format", "csv")
    assert applied.exit_code == 0, applied.stderr
    rows = list(csv.DictReader(io.StringIO(applied.stdout)))
    assert len(rows) == 3000
    assert {"customer_id", "score", "pd", "grade", "reason1"} <= set(rows[0])
    sql = cli("score", "export", "1", "--format", "sql")
    assert sql.exit_code == 0
    assert sql.stdout.startswith("-- riskcli scorecard history v1 (model 1)")
    assert "CASE WHEN worst_dpd_12m IS NULL THEN" in sql.stdout
    js = json.loads(cli("score", "export", "1", "--format", "json").stdout)
    assert js["scorecard"]["format"] == "riskcli.scorecard/1"
    val = cli("score", "validate", "1", "--data", str(history), "--target", "defaulted",
              "--bad", "yes", "--format", "json")  # fmt: skip
    assert val.exit_code == 0, val.stderr
    assert json.loads(val.stdout)["metrics"]["auc"] > 0.8


def test_store_flow_run_show_explain_list_distribution(cli: Cli, book: Path) -> None:
    trained = cli("score", "train", "--from-store", "--as-of", "2025-09-30", "-f", "json")
    assert trained.exit_code == 0, trained.stderr
    assert cli("score", "expert", "-f", "json").exit_code == 0
    models = json.loads(cli("score", "models", "list", "-f", "json").stdout)
    assert [m["status"] for m in models] == ["champion", "candidate"]
    run = cli("score", "run", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["customers"] == 1500
    shown = json.loads(cli("score", "show", "C0000003", "-f", "json").stdout)
    assert shown[0]["grade"] in "ABCDE" and "reasons" in shown[0]
    explained = json.loads(cli("score", "explain", "C0000003", "-f", "json").stdout)
    assert explained["score"]["score"] == shown[0]["score"]
    assert explained["factors"][0]["would_raise_by"] >= 0
    listed = json.loads(cli("score", "list", "--grade", "E", "-f", "json").stdout)
    assert listed and {r["grade"] for r in listed} == {"E"}
    table = cli("score", "distribution", "-f", "table")
    assert table.exit_code == 0 and "#" in table.stdout
    assert cli("score", "models", "promote", "2").exit_code == 0
    assert cli("score", "models", "retire", "1").exit_code == 0
    shown_model = json.loads(cli("score", "models", "show", "1", "-f", "json").stdout)
    assert shown_model["model"]["status"] == "retired"
    assert shown_model["points"]
    compared = cli("score", "compare", "1", "2", "--as-of", "2025-09-30", "-f", "json")
    assert compared.exit_code == 0, compared.stderr


def test_one_class_target_is_a_clear_error_and_nothing_is_stored(
    cli: Cli, store_env: Path, tmp_path: Path
) -> None:
    path = tmp_path / "all_good.csv"
    path.write_text("x,bad\n" + "".join(f"{i},0\n" for i in range(300)), encoding="utf-8")
    result = cli("score", "train", "--data", str(path), "--target", "bad")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the target has only one class (no bad outcomes); a scorecard needs both — for "
        "a book without default history use `riskcli score expert`\n"
    )
    assert _count(store_env, "score_models") == 0


def test_too_few_bads_points_to_expert(cli: Cli, store_env: Path, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text(
        "x,bad\n" + "".join(f"{i},{1 if i < 7 else 0}\n" for i in range(400)), encoding="utf-8"
    )
    result = cli("score", "train", "--data", str(path), "--target", "bad")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: only 7 bad outcome(s); at least 50 are needed")
    assert "use `riskcli score expert` instead" in result.stderr
    assert _count(store_env, "score_models") == 0


def test_constant_and_empty_factors_are_dropped_and_reported(
    cli: Cli, store_env: Path, history: Path, tmp_path: Path
) -> None:
    text = history.read_text(encoding="utf-8").splitlines()
    out = [text[0] + ",constant,empty"] + [line + ",7," for line in text[1:]]
    path = tmp_path / "with_junk.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    result = cli("score", "train", "--data", str(path), "--target", "defaulted", "--bad", "yes",
                 "--exclude", "customer_id")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "constant (constant)" in result.stderr
    assert "empty (all values missing)" in result.stderr


def test_unknown_model_is_exit_1(cli: Cli, store_env: Path) -> None:
    result = cli("score", "models", "show", "99")
    assert result.exit_code == 1
    assert result.stderr == "Error: no model 99 (see `riskcli score models list`)\n"
    run = cli("score", "run", "--model", "99")
    assert run.exit_code == 1
    assert run.stderr == "Error: no model 99 (see `riskcli score models list`)\n"
    assert _count(store_env, "score_runs") == 0


def test_non_numeric_values_at_scoring_time(
    cli: Cli, store_env: Path, history: Path, tmp_path: Path
) -> None:
    assert cli("score", "train", "--data", str(history), "--target", "defaulted", "--bad",
               "yes", "--exclude", "customer_id").exit_code == 0  # fmt: skip
    bad = tmp_path / "bad.csv"
    lines = history.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("worst_dpd_12m")] = "lots"
    bad.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    result = cli("score", "apply", "1", "--data", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: factor 'worst_dpd_12m' must be numeric")


def test_usage_errors(cli: Cli, store_env: Path) -> None:
    both = cli("score", "train")
    assert both.exit_code == 2
    assert both.stderr == "Error: give either --data FILE --target COLUMN or --from-store\n"
    no_champion = cli("score", "run")
    assert no_champion.exit_code == 1
    assert no_champion.stderr.startswith("Error: no champion model")
    bad_date = cli("score", "run", "--as-of", "yesterday")
    assert bad_date.exit_code == 2


def test_viewer_may_read_but_not_train(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskcli.services.access import add_user

    store = open_store(store_env, "alice", PASSPHRASE.encode())
    try:
        add_user(store, "vera", "viewer", secret=b"viewer passphrase 123")
    finally:
        store.close()
    monkeypatch.setenv("RISKCLI_USER", "vera")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "viewer passphrase 123")
    assert cli("score", "models", "list", "-f", "json").exit_code == 0
    denied = cli("score", "expert")
    assert denied.exit_code == 3
    assert denied.stderr == "Error: user vera (role viewer) may not score.train\n"
    assert _count(store_env, "score_models") == 0


def test_unknown_customer_is_exit_1_and_nothing_is_stored(cli: Cli, book: Path) -> None:
    assert cli("score", "expert").exit_code == 0
    run = cli("score", "run", "--customer", "NOPE")
    assert run.exit_code == 1
    assert run.stderr.endswith("Error: no customer 'NOPE'\n")
    assert _count(book, "score_runs") == 0
    shown = cli("score", "show", "NOPE")
    assert shown.exit_code == 1
    assert shown.stderr == "Error: no customer 'NOPE'\n"
    not_yet = cli("score", "show", "C0000001")
    assert not_yet.stderr == (
        "Error: customer 'C0000001' has no score yet: run `riskcli score run`\n"
    )
    # score explain, limit section included, says the same and writes nothing
    unknown = cli("score", "explain", "NOPE")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: no customer 'NOPE'\n")
    unscored = cli("score", "explain", "C0000001")
    assert (unscored.exit_code, unscored.stderr) == (1, not_yet.stderr)
    assert _count(book, "score_runs") == 0
