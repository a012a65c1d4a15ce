"""`riskcli doctor`: each check passes, warns or fails, with a fix, and exit 1 on a fail."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import PASSPHRASE, USER

from riskcli.services import audit as audit_service
from riskcli.services import doctor
from riskcli.storage.keyslots import pending_keys_path
from riskcli.storage.store import Store, open_store

Cli = Callable[..., Any]
#: the test profile's cheap KDF passes with these thresholds
CHEAP_OK = "[doctor]\nkdf_memory_kib = 8\nkdf_iterations = 1\nkdf_min_memory_kib = 8\n"
CHEAP_OK += "kdf_min_iterations = 1\n"


def _findings(cli: Cli) -> tuple[int, dict[str, dict[str, str]], str]:
    result = cli("doctor", "--format", "json")
    rows = json.loads(result.stdout)
    return result.exit_code, {r["check"]: r for r in rows}, result.stderr


def _record_backup(path: Path, kind: str, when: datetime) -> None:
    with open_store(path, USER, PASSPHRASE.encode()) as s:
        s.execute(
            "INSERT INTO backup_events(at, kind, user, ok) VALUES (?, ?, 'alice', 1)",
            (when.isoformat(timespec="seconds"), kind),
        )


def test_a_fresh_test_store_fails_on_kdf_cost_and_missing_backup(store_env: Path, cli: Cli) -> None:
    code, found, stderr = _findings(cli)
    assert code == 1
    assert stderr.endswith("Error: doctor: 2 checks failed\n")
    kdf = found["KDF cost of alice"]
    assert kdf["status"] == "fail" and "riskcli user passwd alice" in kdf["fix"]
    assert found["newest backup"]["status"] == "fail"
    assert "riskcli backup create" in found["newest backup"]["fix"]
    assert found["store file permissions"]["status"] == "pass"
    assert found["keys file permissions"]["status"] == "pass"
    assert found["admins"]["status"] == "warn"
    assert found["secure_delete"]["status"] == "pass"
    assert found["integrity check"]["status"] == "pass"
    assert found["page authentication"]["status"] == "pass"
    assert found["audit chain"]["status"] == "pass"
    assert found["anchor location"]["status"] == "warn"
    assert found["last restore drill"]["status"] == "warn"
    assert all(r["fix"] for r in found.values() if r["status"] != "pass")


def test_a_healthy_store_passes(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "riskcli.toml").write_text(CHEAP_OK)
    now = datetime.now(UTC)
    _record_backup(store_env, "create", now - timedelta(days=1))
    _record_backup(store_env, "drill", now - timedelta(days=10))
    code, found, _ = _findings(cli)
    assert code == 0, found
    assert found["KDF cost of alice"]["status"] == "pass"
    assert found["newest backup"]["status"] == "pass"
    assert found["last restore drill"]["status"] == "pass"


def test_readable_files_fail_with_a_chmod_fix(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "riskcli.toml").write_text(CHEAP_OK)
    _record_backup(store_env, "create", datetime.now(UTC))
    os.chmod(f"{store_env}.keys", 0o644)
    code, found, _ = _findings(cli)
    assert code == 1
    row = found["keys file permissions"]
    assert row["status"] == "fail" and row["fix"] == f"chmod 600 {store_env}.keys"
    assert "mode 0644" in row["detail"]


def test_old_backup_and_tampered_chain_fail(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "riskcli.toml").write_text(CHEAP_OK)
    _record_backup(store_env, "create", datetime.now(UTC) - timedelta(days=30))
    cli("status")
    cli("status")
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        s.execute("UPDATE audit_events SET user = 'mallory' WHERE seq = 1")
    code, found, _ = _findings(cli)
    assert code == 1
    assert found["newest backup"]["status"] == "fail"
    assert "30 days old" in found["newest backup"]["detail"]
    assert found["audit chain"]["status"] == "fail"
    assert "event 1 was altered" in found["audit chain"]["detail"]


def test_leftover_rotation_file_fails(store_env: Path, cli: Cli) -> None:
    pending_keys_path(store_env).write_text("{}")
    _, found, _ = _findings(cli)
    assert found["key rotation"]["status"] == "fail"


def test_inactive_users_and_admin_count(store: Store, store_path: Path) -> None:
    anchor = audit_service.anchor_path(store_path)
    later = datetime.now(UTC) + timedelta(days=120)
    found = {f.check: f for f in doctor.run(store, anchor, now=later)}
    assert found["inactive users"].status == "warn"
    assert "alice" in found["inactive users"].detail
    assert "riskcli user remove" in found["inactive users"].fix
    found = {f.check: f for f in doctor.run(store, anchor)}
    assert found["inactive users"].status == "pass"
