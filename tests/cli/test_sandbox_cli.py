"""Sandboxes: own store id and keys, marked in meta, announced by every command, never restored
over the real store, removed by overwriting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage.keyslots import KeyFile
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
BANNER = "SANDBOX {}: a practice store, not the real book"


def _create(cli: Cli, folder: Path, *args: str) -> dict[str, Any]:
    result = cli("sandbox", "create", str(folder), *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_generated_sandbox_is_marked_and_says_so(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "practice"
    made = _create(cli, folder, "--generate", "40")
    assert (made["customers"], made["your_role"]) == (40, "admin")
    db = folder / "sandbox.db"
    with open_store(db, USER, PASSPHRASE.encode()) as s:
        assert s.meta("sandbox") == "1"
        assert s.meta("sandbox_source") == "generated: 40 customers, seed 42"
        assert s.keyfile.store_id != KeyFile.load(Path(f"{store_env}.keys")).store_id
    listed = cli("--db", str(db), "customers", "list", "--limit", "2", "--format", "table")
    assert listed.exit_code == 0
    assert BANNER.format(folder) in listed.stderr
    assert listed.stdout.startswith(f"[{BANNER.format(folder)}]")
    as_csv = cli("--db", str(db), "customers", "list", "--limit", "2", "--format", "csv")
    assert BANNER.format(folder) in as_csv.stderr
    assert as_csv.stdout.startswith("customer_id,")  # a script's CSV stays CSV
    report = cli("--db", str(db), "report", "portfolio", "--format", "json")
    assert json.loads(report.stdout)["title"].startswith(BANNER.format(folder) + " — ")
    real = cli("status", "--format", "json")
    assert "SANDBOX" not in real.stderr + real.stdout


def test_a_sandbox_from_a_backup_has_its_own_id_and_keys_and_leaves_the_store_alone(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    backup = json.loads(cli("backup", "create", "--format", "json").stdout)["file"]
    before = (store_env.read_bytes(), Path(f"{store_env}.keys").read_bytes())
    folder = tmp_path / "leak-drill"
    made = _create(cli, folder, "--from-backup", backup)
    assert made["your_role"] == "admin"
    real_id = KeyFile.load(Path(f"{store_env}.keys")).store_id
    keys = KeyFile.load(folder / "sandbox.db.keys")
    assert keys.store_id == made["store_id"] != real_id
    assert [s.user for s in keys.slots] == [USER]
    with open_store(folder / "sandbox.db", USER, PASSPHRASE.encode()) as s:
        assert s.meta("store_id") == made["store_id"]
        assert s.meta("sandbox_origin_store_id") == real_id
        assert s.meta("sandbox_source") == f"backup {Path(backup).name} of store {real_id}"
    assert (store_env.read_bytes(), Path(f"{store_env}.keys").read_bytes()) == before
    verified = cli("--db", str(folder / "sandbox.db"), "audit", "verify", "--format", "json")
    assert verified.exit_code == 0, verified.output


def test_a_sandbox_can_never_be_restored_over_the_real_store(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "practice"
    _create(cli, folder, "--generate", "10")
    sandbox_backup = json.loads(
        cli("--db", str(folder / "sandbox.db"), "backup", "create", "--format", "json").stdout
    )["file"]
    before = store_env.read_bytes()
    result = cli("restore", sandbox_backup, "--force")
    assert result.exit_code == 4
    assert "is a backup of another store" in result.stderr
    assert store_env.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--generate", "5", "--from-backup", "x"), 2,
         "Error: give --from-backup FILE or --generate N, not both"),
        (("--generate", "0"), 1, "Error: --generate takes 1 to 200,000 customers"),
        (("--from-backup", "missing.rcbk"), 1, "Error: backup file missing.rcbk does not exist"),
    ],
)  # fmt: skip
def test_bad_create_input(
    store_env: Path, cli: Cli, tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli("sandbox", "create", str(tmp_path / "s"), *args)
    assert (result.exit_code, result.stderr.strip()) == (code, message)
    assert not (tmp_path / "s").exists()


def test_create_refuses_a_folder_in_use(store_env: Path, cli: Cli) -> None:
    result = cli("sandbox", "create", str(store_env.parent), "--generate", "5")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {store_env.parent} is not empty: a sandbox needs a new or empty folder"
    )
    assert store_env.exists()


def test_remove_shreds_a_sandbox_and_refuses_anything_else(
    store_env: Path, cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "practice"
    _create(cli, folder, "--generate", "10")
    real = cli("sandbox", "remove", str(store_env.parent))
    assert real.exit_code == 1
    assert real.stderr.strip() == (
        f"Error: {store_env.parent} holds no sandbox (sandbox.db is missing)"
    )
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "sandbox.db").write_bytes(store_env.read_bytes())
    (copy / "sandbox.db.keys").write_bytes(Path(f"{store_env}.keys").read_bytes())
    not_one = cli("sandbox", "remove", str(copy))
    assert not_one.exit_code == 1
    assert not_one.stderr.strip() == (
        f"Error: {copy / 'sandbox.db'} is not a sandbox: riskcli removes only sandboxes"
    )
    assert (copy / "sandbox.db").exists()
    removed = cli("sandbox", "remove", str(folder), "--format", "json")
    assert removed.exit_code == 0, removed.output
    row = json.loads(removed.stdout)
    assert row["removed"] is True and row["files_shredded"] >= 2
    assert not folder.exists()
    assert store_env.exists()
