"""`riskcli unlock` / `riskcli lock`: the slot key derived once, the master key sealed in a 0600
file, expiry, lock, a removed user, a wrong session key; nothing changes without a session."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services import access
from riskcli.storage import sessions
from riskcli.storage.keyslots import KdfParams
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
OTHER_KEY = "A" * 43  # a well-formed session key that is not this session's


def unlock(cli: Cli, *args: str) -> str:
    result = cli("unlock", *args)
    assert result.exit_code == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("export RISKCLI_SESSION=")
    return line.removeprefix("export RISKCLI_SESSION=")


def session_files() -> list[Path]:
    return sorted((Path(os.environ["XDG_RUNTIME_DIR"]) / "riskcli").glob("*.session"))


def audit_actions(db: Path) -> list[tuple[str, str, dict[str, Any]]]:
    store = open_store(db, USER, PASSPHRASE.encode())
    try:
        rows = store.query("SELECT action, outcome, affected FROM audit_events ORDER BY seq")
    finally:
        store.close()
    return [(r["action"], r["outcome"], json.loads(r["affected"])) for r in rows]


def test_unlock_derives_the_key_once_and_commands_need_no_passphrase(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived: list[int] = []
    real = KdfParams.derive
    monkeypatch.setattr(KdfParams, "derive", lambda self, s: derived.append(1) or real(self, s))
    key = unlock(cli, "--for", "30m")
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    monkeypatch.setenv("RISKCLI_SESSION", key)
    for _ in range(3):
        result = cli("status", "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["store"]["file"] == str(store_env)
    assert len(derived) == 1
    assert [a[2] for a in audit_actions(store_env)[-3:]] == [{"unlock_session": True}] * 3
    action, outcome, affected = audit_actions(store_env)[-4]
    assert (action, outcome, affected["seconds"]) == ("session.unlock", "ok", 1800)


def test_the_session_file_is_0600_in_a_0700_folder_and_holds_no_key(
    cli: Cli, store_env: Path
) -> None:
    key = unlock(cli)
    (path,) = session_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    body = path.read_text()
    assert key not in body and json.loads(body)["user"] == USER


def test_a_folder_open_to_others_is_refused(cli: Cli, store_env: Path) -> None:
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "riskcli"
    folder.mkdir(mode=0o700)
    folder.chmod(0o755)
    result = cli("unlock")
    assert result.exit_code == 3
    assert result.stderr == (
        f"Error: session folder {folder} is open to other users (mode must be 0700)\n"
    )
    assert session_files() == []


def test_the_session_expires_by_itself(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = unlock(cli, "--for", "15m")
    monkeypatch.setenv("RISKCLI_SESSION", key)
    assert cli("status").exit_code == 0
    later = sessions._now() + timedelta(minutes=16)
    monkeypatch.setattr(sessions, "_now", lambda: later)
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    result = cli("status")
    assert result.exit_code == 3
    assert "Warning: the unlock session of alice expired at " in result.stderr
    assert result.stderr.endswith("Error: " + "no passphrase: set RISKCLI_PASSPHRASE_FILE, "
                                  "RISKCLI_PASSPHRASE_COMMAND or RISKCLI_PASSPHRASE, use "
                                  "--passphrase-file, or run on a terminal\n")  # fmt: skip
    assert session_files() == []


def test_lock_ends_the_session_and_is_audited(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = unlock(cli)
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    monkeypatch.setenv("RISKCLI_SESSION", key)
    result = cli("lock")
    assert result.exit_code == 0, result.stderr
    assert "Locked: the unlock session of alice on book.db is ended." in result.stderr
    assert session_files() == []
    assert cli("status").exit_code == 3  # back to the passphrase, and there is none
    last = ("session.lock", "ok", {"unlock_session": True, "ended": True})
    assert audit_actions(store_env)[-1] == last
    again = cli("lock")
    assert again.exit_code == 0 and "No unlock session of alice on book.db." in again.stderr


def unlocked_then_without_passphrase(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, *command: str
) -> Any:
    """Unlock, forget the passphrase, run `command` without RISKCLI_SESSION: exit 3."""
    unlock(cli)
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    result = cli(*command)
    assert result.exit_code == 3
    return result


def test_lock_without_the_key_still_ends_the_session(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = unlocked_then_without_passphrase(cli, monkeypatch, "lock")
    assert "Warning: the unlock session is ended, but the lock could not be audited" in (
        result.stderr
    )
    assert session_files() == []


def test_a_removed_users_session_stops_at_once(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = open_store(store_env, USER, PASSPHRASE.encode())
    try:
        access.add_user(admin, "bob", "admin", secret=b"bob's long passphrase")
    finally:
        admin.close()
    monkeypatch.setenv("RISKCLI_USER", "bob")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "bob's long passphrase")
    key = unlock(cli)
    monkeypatch.setenv("RISKCLI_SESSION", key)
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    assert cli("status").exit_code == 0
    admin = open_store(store_env, USER, PASSPHRASE.encode())
    try:
        access.remove_user(admin, "bob")
    finally:
        admin.close()
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr == "Error: unknown user bob for this store\n"
    assert session_files() == []


def test_a_rotated_master_key_ends_the_session(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = unlock(cli)
    assert cli("key", "rotate").exit_code == 0
    monkeypatch.setenv("RISKCLI_SESSION", key)
    result = cli("status")  # falls back to the passphrase, which is set
    assert result.exit_code == 0
    assert "Warning: the unlock session of alice ended: the store's master key changed" in (
        result.stderr
    )
    assert session_files() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (OTHER_KEY, "Error: RISKCLI_SESSION does not open the unlock session of alice on this "
                    "store (run `riskcli unlock` again, or unset it)\n"),
        ("not-a-key", "Error: RISKCLI_SESSION is not a riskcli session key\n"),
    ],
)  # fmt: skip
def test_a_wrong_session_key_is_refused(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    unlock(cli)
    before = audit_actions(store_env)
    monkeypatch.setenv("RISKCLI_SESSION", value)
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr == message
    assert len(session_files()) == 1  # the session is not the wrong key's to end
    assert audit_actions(store_env) == before


def test_without_risk_session_nothing_changes(
    cli: Cli, store_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = unlocked_then_without_passphrase(cli, monkeypatch, "status")
    assert result.stderr.startswith("Error: no passphrase:")


@pytest.mark.parametrize("value", ["15", "0s", "25h", "1x", "m15", ""])
def test_a_bad_duration_is_a_usage_error(cli: Cli, store_env: Path, value: str) -> None:
    result = cli("unlock", "--for", value)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --for must be ")
    assert result.stderr.count("\n") == 1
    assert session_files() == []


def test_raw_prints_the_key_alone(cli: Cli, store_env: Path) -> None:
    result = cli("unlock", "--raw", "--for", "1h30m")
    assert result.exit_code == 0
    assert len(result.stdout.strip()) == 43 and "export" not in result.stdout


def sh(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a real shell, where `riskcli` runs this riskcli."""
    script = 'riskcli() { "$PY" -m riskcli "$@"; }\nset -e\n' + script
    env = {**os.environ, "PY": sys.executable}
    return subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)


def test_a_real_shell_evals_the_unlock_line(store_env: Path) -> None:
    done = sh('eval "$(riskcli -q unlock)"\nunset RISKCLI_PASSPHRASE\nriskcli status -f json')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["store"]["file"] == str(store_env)


def test_the_sh_blocks_of_the_security_page_run(store_env: Path) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    blocks = page.read_text(encoding="utf-8").split("```sh\n")[1:]
    assert blocks
    for block in (b.split("```")[0] for b in blocks):
        done = sh(block)
        assert done.returncode == 0, (block, done.stderr)
    assert session_files() == []  # the page's example ends with `riskcli lock`


def test_without_a_runtime_folder_sessions_go_to_a_private_tmp_folder(
    cli: Cli, store_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    unlock(cli)
    folder = tmp_path / f"riskcli-{os.getuid()}"
    (path,) = folder.glob("*.session")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
