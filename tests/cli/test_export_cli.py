"""`riskcli export parquet` and `score export --full`: round trip, masking, errors."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.domain.pii import PiiKind, mask
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _ok(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def _load(cli: Cli) -> None:
    for kind in ("customers", "transactions", "receivables", "credit_reports", "interactions"):
        _ok(cli, "-q", "import", kind.replace("_", "-"), str(EXAMPLES / f"{kind}.csv"))


def test_parquet_round_trips_with_personal_data_masked(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    _load(cli)
    out = tmp_path / "lake"
    rows = json.loads(_ok(cli, "export", "parquet", str(out), "--format", "json").stdout)
    assert {r["table"] for r in rows} == {
        "customers", "transactions", "receivables", "credit_reports", "contracts",
        "interactions", "financials",
    }  # fmt: skip
    for r in rows:
        assert stat.S_IMODE(Path(r["file"]).stat().st_mode) == 0o600
    customers = pq.read_table(out / "customers.parquet").to_pylist()
    receivables = pq.read_table(out / "receivables.parquet").to_pylist()
    notes = pq.read_table(out / "interactions.parquet").column("note").to_pylist()
    with open_store(store_env, USER, PASSPHRASE.encode()) as store:
        want = store.query(
            "SELECT external_id, name, phone, email, national_id, credit_limit, registered_date "
            "FROM customers ORDER BY id"
        )
        inv = store.query(
            "SELECT c.external_id, r.invoice_number, r.amount, r.paid_amount, r.due_date "
            "FROM receivables r JOIN customers c ON c.id = r.customer_id ORDER BY r.id"
        )
    assert len(customers) == len(want) > 0
    for got, row in zip(customers, want, strict=True):
        assert got["customer_id"] == row["external_id"]
        assert got["credit_limit"] * 100 == row["credit_limit"]
        assert got["phone"] == mask(row["phone"], PiiKind.PHONE)
        assert got["national_id"] == mask(row["national_id"], PiiKind.NATIONAL_ID)
        assert got["name"] == mask(row["name"], PiiKind.NAME)
        reg = row["registered_date"]
        assert (got["registered_date"].isoformat() if got["registered_date"] else None) == reg
    assert [(r["customer_id"], r["invoice_number"], r["amount"] * 100, r["paid_amount"] * 100,
             r["due_date"].isoformat()) for r in receivables] == [
        tuple(x.values()) for x in inv
    ]  # fmt: skip
    assert all(n is None for n in notes)


def test_parquet_written_in_chunks_equals_one_piece(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table larger than a chunk becomes several row groups of the same rows, in order."""
    from riskcli.services import export_parquet

    _load(cli)
    _ok(cli, "-q", "export", "parquet", str(tmp_path / "whole"))
    monkeypatch.setattr(export_parquet, "CHUNK", 7)
    _ok(cli, "-q", "export", "parquet", str(tmp_path / "chunked"))
    for table in export_parquet.TABLES:
        whole = pq.ParquetFile(tmp_path / "whole" / f"{table}.parquet")
        chunked = pq.ParquetFile(tmp_path / "chunked" / f"{table}.parquet")
        assert chunked.read().equals(whole.read()), table
        rows = whole.metadata.num_rows
        assert chunked.metadata.num_row_groups == -(-rows // 7), table
    assert pq.read_metadata(tmp_path / "chunked" / "receivables.parquet").num_rows > 7


def test_parquet_reveal_is_recorded_and_needs_the_permission(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    _load(cli)
    _ok(cli, "-q", "export", "parquet", str(tmp_path / "open"), "--tables", "customers",
        "--reveal")  # fmt: skip
    with open_store(store_env, USER, PASSPHRASE.encode()) as store:
        phone = store.scalar("SELECT phone FROM customers WHERE phone IS NOT NULL LIMIT 1")
        event = store.query(
            "SELECT * FROM audit_events WHERE action = 'customers.export' ORDER BY seq DESC LIMIT 1"
        )[0]
    phones = pq.read_table(tmp_path / "open" / "customers.parquet").column("phone").to_pylist()
    assert phone in phones
    assert "pii_revealed" in json.dumps(event, default=str)
    pw = tmp_path / "v.pw"
    pw.write_text("viewer's long passphrase\n")
    _ok(cli, "user", "add", "val", "--role", "viewer", "--new-passphrase-file", str(pw))
    result = cli("--user", "val", "--passphrase-file", str(pw), "export", "parquet",
                 str(tmp_path / "no"), "--reveal")  # fmt: skip
    assert result.exit_code == 3
    assert result.stderr == "Error: user val (role viewer) may not customers.export\n"
    assert not (tmp_path / "no").exists()


def test_bad_input_is_one_line_and_writes_nothing(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    _load(cli)
    _ok(cli, "-q", "score", "expert")
    result = cli("export", "parquet", str(tmp_path / "x"), "--tables", "bogus")
    assert (result.exit_code, result.stderr) == (
        1, "Error: --tables: unknown table 'bogus' (known: customers, transactions, "
        "receivables, credit_reports, contracts, interactions, financials)\n",
    )  # fmt: skip
    assert not (tmp_path / "x").exists()
    full = ("score", "export", "champion", "--format", "sql", "--full")
    cases = [
        ((*full, "--dialect", "oracle"),
         1, "Error: --dialect must be one of duckdb, spark, postgres, sqlite, not 'oracle'\n"),
        ((*full, "--as-of", "2026-09-30", "--as-of-param"),
         1, "Error: give --as-of DATE or --as-of-param, not both\n"),
        ((*full, "--as-of", "30/09/2026"),
         2, "Error: Invalid value for '--as-of': '30/09/2026' is not a date; "
            "use YYYY-MM-DD or today\n"),
        (("score", "export", "champion", "--format", "json", "--full"),
         2, "Error: --full needs --format sql\n"),
        (("score", "export", "champion", "--dialect", "spark"),
         2, "Error: --dialect, --as-of and --as-of-param go with --full\n"),
    ]  # fmt: skip
    for args, code, line in cases:
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (code, line), args
    sql = _ok(cli, *full, "--dialect", "spark", "--as-of", "2026-09-30").stdout
    assert "unix_date(" in sql and "DATE '2026-09-30'" in sql


def test_an_existing_export_is_replaced_only_with_force_and_kept_as_bak(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    _load(cli)
    lake = tmp_path / "lake"
    _ok(cli, "-q", "export", "parquet", str(lake), "--tables", "customers,receivables")
    before = (lake / "customers.parquet").read_bytes()
    (lake / "receivables.parquet").write_bytes(b"an analyst's own file")
    result = cli("export", "parquet", str(lake))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {lake / 'customers.parquet'} and 1 more exist; use --force to replace them "
        "(a .bak copy of each is kept)\n"
    )
    assert sorted(p.name for p in lake.iterdir()) == ["customers.parquet", "receivables.parquet"]
    assert (lake / "receivables.parquet").read_bytes() == b"an analyst's own file"
    one = cli("export", "parquet", str(lake), "--tables", "customers")
    assert (one.exit_code, one.stderr) == (
        1,
        f"Error: {lake / 'customers.parquet'} exists; use --force to replace it "
        "(a .bak copy is kept)\n",
    )
    _ok(cli, "-q", "export", "parquet", str(lake), "--force")
    assert (lake / "receivables.parquet.bak").read_bytes() == b"an analyst's own file"
    assert (lake / "customers.parquet.bak").read_bytes() == before
    assert pq.read_table(lake / "receivables.parquet").num_rows > 0
    assert len(list(lake.glob("*.parquet"))) == 7
    assert not list(lake.glob(".*"))  # no temporary file left behind
    assert {oct(p.stat().st_mode & 0o777) for p in lake.glob("*.parquet")} == {"0o600"}


def test_a_failed_export_leaves_the_folder_as_it_was(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskcli.domain.errors import InputError
    from riskcli.services import export_parquet

    _load(cli)
    lake = tmp_path / "lake"
    _ok(cli, "-q", "export", "parquet", str(lake), "--tables", "customers")
    before = (lake / "customers.parquet").read_bytes()
    select = export_parquet._select

    def failing(store: Any, table: str) -> Any:
        if table == "receivables":
            raise InputError("the disk is full")
        return select(store, table)

    monkeypatch.setattr(export_parquet, "_select", failing)
    result = cli("export", "parquet", str(lake), "--tables", "customers,receivables", "--force")
    assert (result.exit_code, result.stderr) == (1, "Error: the disk is full\n")
    assert [p.name for p in lake.iterdir()] == ["customers.parquet"]
    assert (lake / "customers.parquet").read_bytes() == before
