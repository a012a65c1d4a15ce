"""Users, roles and key rotation through the CLI: each role against each command, secrets."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from tests.conftest import PASSPHRASE, USER
from typer.testing import CliRunner

from riskcli.cli import app as app_module
from riskcli.domain.permissions import ROLES, allowed, render_markdown
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
ACTOR_PW = "the actor's long passphrase"
NEW_PW = "a fresh long passphrase"
ALL = frozenset(ROLES)


def _invoke(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _setup(store_env: Path, tmp_path: Path, role: str) -> Path:
    """alice (admin) adds `actor` with `role`, a viewer `victim` and a customer C1."""
    pw = tmp_path / "new.pw"
    pw.write_text(NEW_PW + "\n")
    actor_pw = tmp_path / "actor.pw"
    actor_pw.write_text(ACTOR_PW + "\n")
    app = app_module.app
    for name, r, f in (("actor", role, actor_pw), ("victim", "viewer", pw)):
        result = _invoke(app, "user", "add", name, "--role", r, "--new-passphrase-file", str(f))
        assert result.exit_code == 0, result.output
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        s.execute("INSERT INTO customers(external_id, name, phone) VALUES ('C1', 'A', '1')")
    return pw


PW = "{pw}"
# command -> (action checked, roles allowed, exit code when allowed)
MATRIX: list[tuple[tuple[str, ...], str, frozenset[str], int]] = [
    (("status",), "status.read", ALL, 0),
    (("user", "list"), "users.read", frozenset({"admin", "auditor"}), 0),
    (
        ("user", "add", "zed", "--role", "viewer", "--new-passphrase-file", PW),
        "users.admin",
        frozenset({"admin"}),
        0,
    ),
    (("user", "role", "victim", "analyst"), "users.admin", frozenset({"admin"}), 0),
    (
        ("user", "passwd", "victim", "--new-passphrase-file", PW),
        "users.admin",
        frozenset({"admin"}),
        0,
    ),
    (("user", "passwd", "--new-passphrase-file", PW), "account.passwd", ALL, 0),
    (("user", "remove", "victim"), "users.admin", frozenset({"admin"}), 0),
    (("key", "rotate"), "key.rotate", frozenset({"admin"}), 0),
    (("audit", "log"), "audit.read", frozenset({"admin", "auditor"}), 0),
    (("audit", "verify"), "audit.verify", frozenset({"admin", "auditor"}), 0),
    (("audit", "report"), "audit.read", frozenset({"admin", "auditor"}), 0),
    (("audit", "exposure"), "audit.exposure", frozenset({"admin", "auditor"}), 0),
    (("drill", "list"), "drill.read", ALL, 0),
    (("doctor",), "doctor.run", frozenset({"admin", "operator", "auditor"}), 1),
    (
        ("customers", "erase", "C1", "--reason", "request"),
        "customers.erase",
        frozenset({"admin"}),
        0,
    ),
    (("customers", "hold", "C1", "--reason", "case 1"), "customers.hold", frozenset({"admin"}), 0),
    (("customers", "unhold", "C1", "--reason", "done"), "customers.hold", frozenset({"admin"}), 1),
    (("customers", "holds"), "customers.retention", frozenset({"admin", "auditor"}), 0),
    (("limits", "list"), "limits.read", ALL - {"operator"}, 0),
    (
        ("limits", "expire"),
        "limits.expire",
        frozenset({"admin", "manager", "analyst", "operator"}),
        0,
    ),
    (
        ("customers", "retention", "--inactive-years", "1"),
        "customers.retention",
        frozenset({"admin", "auditor"}),
        0,
    ),
]
CASES = [
    pytest.param(role, args, action, role in roles, code, id=f"{role}-{' '.join(args[:2])}")
    for args, action, roles, code in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize(("role", "args", "action", "expect_allowed", "ok_code"), CASES)
def test_each_role_against_each_command(
    store_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    role: str,
    args: tuple[str, ...],
    action: str,
    expect_allowed: bool,
    ok_code: int,
) -> None:
    assert allowed(role, action) is expect_allowed  # the table and this matrix agree
    pw = _setup(store_env, tmp_path, role)
    monkeypatch.setenv("RISKCLI_USER", "actor")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", ACTOR_PW)
    argv = [str(pw) if a == PW else a for a in args]
    result = _invoke(app_module.app, "--quiet", *argv)
    with open_store(store_env, USER, PASSPHRASE.encode()) as s:
        last = s.query("SELECT user, action, outcome FROM audit_events ORDER BY seq DESC LIMIT 1")
    if expect_allowed:
        assert result.exit_code == ok_code, result.output
        assert last[0]["outcome"] != "denied"
    else:
        assert result.exit_code == 3, result.output
        assert result.stderr == f"Error: user actor (role {role}) may not {action}\n"
        assert last[0] == {"user": "actor", "action": action, "outcome": "denied"}


def test_reveal_needs_pii_reveal_on_top_of_the_action() -> None:
    assert allowed("analyst", "pii.reveal") and allowed("admin", "pii.reveal")
    for role in ("viewer", "operator", "auditor"):
        assert not allowed(role, "pii.reveal")
    assert not allowed("auditor", "customers.read")  # auditors never see customer PII
    assert not allowed("nobody", "status.read")


def test_the_guide_shows_the_permission_table() -> None:
    page = Path(__file__).parents[2] / "docs" / "users-audit.md"
    assert render_markdown() in page.read_text(encoding="utf-8")


# ---- the user commands end to end ---------------------------------------------------------------
def _ok(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def test_user_lifecycle(store_env: Path, cli: Cli, tmp_path: Path) -> None:
    pw = tmp_path / "bob.pw"
    pw.write_text("bob's long passphrase\n")
    _ok(cli, "user", "add", "bob", "--role", "analyst", "--new-passphrase-file", str(pw))
    users = json.loads(_ok(cli, "user", "list", "--format", "json").stdout)
    assert [(u["user"], u["role"], u["kind"]) for u in users] == [
        ("alice", "admin", "passphrase"),
        ("bob", "analyst", "passphrase"),
    ]
    assert users[0]["last_activity"] is not None and users[1]["last_activity"] is None
    _ok(cli, "user", "role", "bob", "viewer")
    assert json.loads(_ok(cli, "user", "list", "--format", "json").stdout)[1]["role"] == "viewer"
    result = _ok(cli, "user", "remove", "bob", "--format", "json")
    assert json.loads(result.stdout)["master_key"] == "rotated"
    assert "backups taken before this change still open with the old key" in result.stderr
    assert [u["user"] for u in json.loads(_ok(cli, "user", "list", "--format", "json").stdout)] == [
        "alice"
    ]
    result = cli("user", "remove", "alice")
    assert result.exit_code == 1
    assert result.stderr == "Error: you cannot remove yourself: ask another admin\n"


def test_user_add_needs_a_terminal_or_a_file(store_env: Path, cli: Cli) -> None:
    result = cli("user", "add", "bob", "--role", "viewer")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: no terminal to ask the new passphrase on: give --new-passphrase-file\n"
    )
    result = cli("user", "add", "bob", "--role", "boss")
    assert result.exit_code == 2
    assert "unknown role 'boss'" in result.stderr


def test_no_passphrase_option_on_the_command_line(store_env: Path, cli: Cli) -> None:
    assert cli("--passphrase", "x", "status").exit_code == 2
    assert cli("user", "add", "bob", "--role", "viewer", "--passphrase", "x").exit_code == 2


def test_service_user_with_token_file(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "cron.token"
    _ok(cli, "user", "add", "cron", "--role", "operator", "--token-file", str(token))
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    monkeypatch.setenv("RISKCLI_USER", "cron")
    monkeypatch.delenv("RISKCLI_PASSPHRASE")
    monkeypatch.setenv("RISKCLI_PASSPHRASE_FILE", str(token))
    assert _ok(cli, "status", "--format", "json")
    denied = cli("audit", "log")
    assert denied.exit_code == 3


def test_key_rotate_keeps_users_working(store_env: Path, cli: Cli) -> None:
    before = Path(f"{store_env}.keys").read_text()
    result = _ok(cli, "key", "rotate", "--format", "json")
    assert json.loads(result.stdout)["slots_resealed"] == 1
    assert Path(f"{store_env}.keys").read_text() != before
    _ok(cli, "status")
    assert json.loads(_ok(cli, "audit", "verify", "--format", "json").stdout)["status"] == "ok"


def test_no_secret_in_audit_events_logs_or_output(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob_pw = "bob's very secret passphrase"
    new_pw = "alice's next secret passphrase"
    (tmp_path / "bob.pw").write_text(bob_pw)
    (tmp_path / "new.pw").write_text(new_pw)
    (tmp_path / "alice.pw").write_text(PASSPHRASE)
    token_file = tmp_path / "cron.token"
    outputs: list[str] = []

    def run(*args: str) -> None:
        result = cli(*args)
        outputs.append(result.stdout + result.stderr)

    bob_file = str(tmp_path / "bob.pw")
    run("user", "add", "bob", "--role", "analyst", "--new-passphrase-file", bob_file)
    run("user", "add", "cron", "--role", "operator", "--token-file", str(token_file))
    run("--passphrase-file", str(tmp_path / "alice.pw"), "status")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "a wrong guess at it")
    run("status")  # wrong passphrase
    monkeypatch.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    run("user", "passwd", "--new-passphrase-file", str(tmp_path / "new.pw"))
    monkeypatch.setenv("RISKCLI_PASSPHRASE", new_pw)
    run("key", "rotate")
    run("audit", "log", "--format", "json")
    run("audit", "report", "--format", "json")
    run("user", "list", "--format", "json")
    run("doctor", "--format", "json")
    run("audit", "verify")
    with open_store(store_env, USER, new_pw.encode()) as s:
        master = s.master_key.hex()
        events = json.dumps(s.query("SELECT * FROM audit_events"))
    secrets = [PASSPHRASE, bob_pw, new_pw, token_file.read_text().strip(), master]
    haystacks = {
        "audit events": events,
        "outputs": "\n".join(outputs),
        "anchor": Path(f"{store_env}.anchor").read_text(),
        "keys file": Path(f"{store_env}.keys").read_text(),
    }
    for name, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {name}"
    assert "user add" in events and "key rotate" in events  # the events are there


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {marker!r} in {seen!r}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_user_add_asks_twice_on_a_terminal(store_env: Path) -> None:
    """A real terminal (pty): the new passphrase is asked twice and never echoed."""
    env = {
        **os.environ,
        "RISKCLI_DB": str(store_env),
        "RISKCLI_USER": USER,
        "RISKCLI_PASSPHRASE": PASSPHRASE,
    }
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(
            sys.executable,
            [sys.executable, "-m", "riskcli", "user", "add", "dora", "--role", "viewer"],
            env,
        )
    try:
        _read_until(fd, b"New passphrase for dora: ")
        os.write(fd, b"dora's long passphrase\n")
        _read_until(fd, b"Repeat it: ")
        os.write(fd, b"dora's long passphrase\n")
        rest = b""
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, rest
    assert b"dora's long passphrase" not in rest
    with open_store(store_env, "dora", b"dora's long passphrase") as s:
        assert s.role == "viewer"
