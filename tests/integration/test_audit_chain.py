"""The audit chain and its anchor: every kind of tampering is detected and named."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services import audit as audit_service
from riskcli.storage import audit as chain
from riskcli.storage.store import Store, open_store

Cli = Callable[..., Any]


def _ok(cli: Cli, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def _open(path: Path) -> Store:
    return open_store(path, USER, PASSPHRASE.encode())


def _anchor(path: Path) -> Path:
    return Path(f"{path}.anchor")


def _verify(cli: Cli) -> Any:
    return cli("audit", "verify", "--format", "json")


@pytest.fixture
def busy_store(store_env: Path, cli: Cli) -> Path:
    """A store with four events, each anchored."""
    for _ in range(4):
        _ok(cli, "status")
    return store_env


def test_each_command_appends_an_event_and_anchors_the_head(busy_store: Path) -> None:
    lines = [json.loads(x) for x in _anchor(busy_store).read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4]
    assert stat.S_IMODE(_anchor(busy_store).stat().st_mode) == 0o600
    with _open(busy_store) as s:
        head = chain.head(s.conn)
        assert (lines[-1]["seq"], lines[-1]["hash"]) == (head.seq, head.hash)
        assert lines[-1]["store_id"] == s.keyfile.store_id
        events = s.query("SELECT user, action, outcome FROM audit_events ORDER BY seq")
    assert events == [{"user": USER, "action": "status.read", "outcome": "ok"}] * 4


def test_verify_passes_on_an_untouched_store(busy_store: Path, cli: Cli) -> None:
    result = _verify(cli)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "ok"
    assert (data["events"], data["head_seq"], data["anchored_seq"]) == (4, 4, 4)
    assert data["first_bad_event"] is None


def test_an_edited_event_is_named(busy_store: Path, cli: Cli) -> None:
    with _open(busy_store) as s:
        s.execute("UPDATE audit_events SET user = 'mallory' WHERE seq = 2")
    result = _verify(cli)
    assert result.exit_code == 4
    assert json.loads(result.stdout)["first_bad_event"] == 2
    assert result.stderr.startswith(
        "Error: audit trail verification failed: event 2 was altered (its hash does not match)"
    )


def test_deleted_events_are_named(busy_store: Path, cli: Cli) -> None:
    with _open(busy_store) as s:
        s.execute("DELETE FROM audit_events WHERE seq IN (2, 3)")
    result = _verify(cli)
    assert result.exit_code == 4
    assert "event 2..3 missing (deleted from the chain)" in result.stderr


def test_a_truncated_tail_is_named(busy_store: Path, cli: Cli) -> None:
    with _open(busy_store) as s:
        s.execute("DELETE FROM audit_events WHERE seq >= 3")
    result = _verify(cli)
    assert result.exit_code == 4
    assert json.loads(result.stdout)["first_bad_event"] == 3
    assert (
        "event 3..4 missing: the anchor (line 4) records event 4 but the store ends at event 2"
        in result.stderr
    )


def test_a_rewritten_chain_is_caught_by_the_anchor(busy_store: Path, cli: Cli) -> None:
    """A key holder can recompute every hash; the anchor outside still disagrees."""
    with _open(busy_store) as s:
        s.execute("UPDATE audit_events SET user = 'mallory' WHERE seq = 2")
        prev = str(s.scalar("SELECT hash FROM audit_events WHERE seq = 1"))
        for row in s.query("SELECT * FROM audit_events WHERE seq >= 2 ORDER BY seq"):
            digest = chain.event_hash(prev, row)
            s.execute(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?",
                (prev, digest, row["seq"]),
            )
            prev = digest
        result = audit_service.verify(s, _anchor(busy_store))
        assert [p.kind for p in result.problems] == ["rewritten"]
    cli_result = _verify(cli)
    assert cli_result.exit_code == 4
    assert "event 2 does not match the anchor (line 2)" in cli_result.stderr


def _copy_store(src: Path, dst: Path) -> None:
    for suffix in ("", ".keys", "-wal", "-shm"):
        a, b = Path(f"{src}{suffix}"), Path(f"{dst}{suffix}")
        b.unlink(missing_ok=True)
        if a.exists():
            shutil.copy2(a, b)


def test_a_store_rolled_back_to_an_older_copy_is_detected(
    busy_store: Path, cli: Cli, tmp_path: Path
) -> None:
    saved = tmp_path / "saved.db"
    _copy_store(busy_store, saved)
    _ok(cli, "status")
    _ok(cli, "status")
    _copy_store(saved, busy_store)  # the attacker puts the older copy back
    result = _verify(cli)
    assert result.exit_code == 4
    assert "rolled back to an older copy" in result.stderr
    assert json.loads(result.stdout)["first_bad_event"] == 5
    # the store keeps working after the rollback, and its new events still disagree
    _ok(cli, "status")
    result = _verify(cli)
    assert result.exit_code == 4
    assert "event 5 does not match the anchor" in result.stderr


def test_a_recorded_restore_is_not_tampering(busy_store: Path, cli: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    _copy_store(busy_store, saved)
    _ok(cli, "status")
    _copy_store(saved, busy_store)
    with _open(busy_store) as s:
        audit_service.anchor_restore(s, _anchor(busy_store), source="saved.db")
    _ok(cli, "status")
    result = _verify(cli)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["restores"] == 1


def test_a_missing_anchor_fails_verification(busy_store: Path, cli: Cli) -> None:
    _anchor(busy_store).unlink()
    result = _verify(cli)
    assert result.exit_code == 4
    assert "no anchor for this store" in result.stderr


def test_an_anchor_of_another_store_does_not_vouch(
    busy_store: Path, cli: Cli, tmp_path: Path
) -> None:
    lines = _anchor(busy_store).read_text().splitlines()
    forged = [json.dumps({**json.loads(x), "store_id": "other"}) for x in lines]
    _anchor(busy_store).write_text("\n".join(forged) + "\n")
    with _open(busy_store) as s:
        result = audit_service.verify(s, _anchor(busy_store))
    assert not result.ok
    assert any("belong to another store" in w for w in result.warnings)


def test_a_torn_last_anchor_line_is_tolerated_and_repaired(busy_store: Path, cli: Cli) -> None:
    with _anchor(busy_store).open("a") as fh:
        fh.write('{"store_id": "x", "se')  # a crash in the middle of a write
    _ok(cli, "status")
    lines = _anchor(busy_store).read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == 5
    result = _verify(cli)
    assert result.exit_code == 0, result.output


def test_anchor_location_from_env_option_and_config(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "other" / "audit.anchor"
    elsewhere.parent.mkdir()
    _ok(cli, "--anchor", str(elsewhere), "status")
    assert elsewhere.exists() and not _anchor(store_env).exists()
    monkeypatch.setenv("RISKCLI_ANCHOR", str(elsewhere))
    _ok(cli, "status")
    assert len(elsewhere.read_text().splitlines()) == 2
    monkeypatch.delenv("RISKCLI_ANCHOR")
    (tmp_path / "riskcli.toml").write_text('[audit]\nanchor = "other/audit.anchor"\n')
    _ok(cli, "status")
    assert len(elsewhere.read_text().splitlines()) == 3
    result = cli("audit", "verify", "--format", "json")
    assert result.exit_code == 0, result.output
    # verifying against the default location misses the anchor and says so
    (tmp_path / "riskcli.toml").unlink()
    result = cli("audit", "verify", "--format", "json")
    assert result.exit_code == 4


def test_denied_commands_are_recorded_and_anchored(
    store_env: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "bob.pw"
    secret.write_text("bob's long passphrase\n")
    _ok(cli, "user", "add", "bob", "--role", "viewer", "--new-passphrase-file", str(secret))
    monkeypatch.setenv("RISKCLI_USER", "bob")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "bob's long passphrase")
    result = cli("audit", "log")
    assert result.exit_code == 3
    assert result.stderr == "Error: user bob (role viewer) may not audit.read\n"
    with _open(store_env) as s:
        last = s.query("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")[0]
        head = chain.head(s.conn)
    assert (last["user"], last["action"], last["outcome"]) == ("bob", "audit.read", "denied")
    anchored = json.loads(_anchor(store_env).read_text().splitlines()[-1])
    assert anchored["seq"] == head.seq


# ---- log and report ---------------------------------------------------------------------------
def _event(s: Store, user: str, action: str, outcome: str = "ok", **extra: Any) -> None:
    chain.append_event(
        s.conn,
        user=user,
        role="admin",
        action=action,
        command=f"riskcli {action}",
        args=extra.get("args", {}),
        affected=extra.get("affected", {}),
        outcome=outcome,
    )


@pytest.fixture
def seeded(store_env: Path) -> Path:
    with _open(store_env) as s:
        _event(s, "bob", "customers.read", args={"reveal": True}, affected={"count": 3})
        _event(s, "bob", "customers.export", affected={"count": 120})
        _event(s, "carol", "import.write", affected={"count": 50, "ids": ["C1", "C2"]})
        _event(s, "carol", "customers.erase", affected={"ids": ["C7"], "count": 1})
        _event(s, "dave", "audit.read", "denied")
        _event(s, "ops", "backup.create")
        _event(s, "ops", "backup.drill")
        _event(s, "bob", "monitor.handle", affected={"ids": ["C2"], "count": 1})
        audit_service.anchor_head(s, _anchor(store_env))
    return store_env


def test_log_filters(seeded: Path, cli: Cli) -> None:
    def seqs(*args: str) -> list[int]:
        result = _ok(cli, "audit", "log", "--format", "json", *args)
        return [e["seq"] for e in json.loads(result.stdout)]

    assert seqs("--user", "bob") == [1, 2, 8]
    assert seqs("--action", "backup.*") == [6, 7]
    assert seqs("--action", "customers.erase") == [4]
    assert seqs("--customer", "C2") == [3, 8]
    assert seqs("--outcome", "denied") == [5]
    assert seqs("--since", "2000-01-01", "--until", "2000-12-31") == []
    assert seqs("--since", "1d", "--user", "ops") == [6, 7]
    assert seqs("--user", "bob", "--limit", "1") == [8]
    result = cli("audit", "log", "--since", "yesterday-ish")
    assert result.exit_code == 2
    assert "cannot read the time 'yesterday-ish'" in result.stderr


def test_report_sections(seeded: Path) -> None:
    since, until = audit_service.parse_period("1d")
    with _open(seeded) as s:
        rows = audit_service.report(s, since, until)
    by_section: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        by_section.setdefault(r["section"], set()).add((r["user"], r["action"]))
    assert by_section["pii"] == {("bob", "customers.read"), ("bob", "customers.export")}
    assert by_section["changes"] == {("carol", "import.write"), ("carol", "customers.erase")}
    assert by_section["denied"] == {("dave", "audit.read")}
    assert by_section["backups"] == {("ops", "backup.create"), ("ops", "backup.drill")}
    assert by_section["alerts"] == {("bob", "monitor.handle")}
    assert ("dave", "audit.read") not in by_section["access"]
    export = next(r for r in rows if r["section"] == "pii" and r["action"] == "customers.export")
    assert (export["events"], export["records"]) == (1, 120)


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "jsonl"])
def test_report_in_every_format(seeded: Path, cli: Cli, fmt: str) -> None:
    result = _ok(cli, "audit", "report", "--period", "1d", "--format", fmt)
    out = result.stdout
    if fmt == "csv":
        assert out.splitlines()[0] == "section,user,action,outcome,events,records,first,last"
        assert "denied,dave,audit.read,denied,1,0," in out
    elif fmt == "tsv":
        assert out.splitlines()[0].split("\t")[0] == "section"
    elif fmt == "json":
        data = json.loads(out)
        titles = audit_service.SECTION_TITLES
        assert list(data) == [titles[n] for n in audit_service.REPORT_SECTIONS]
        assert data["denied attempts"][0]["user"] == "dave"
    elif fmt == "jsonl":
        rows = [json.loads(x) for x in out.splitlines()]
        assert {r["section"] for r in rows} == set(audit_service.REPORT_SECTIONS)
    else:
        for title in audit_service.SECTION_TITLES.values():
            assert title in out


def test_report_period_parsing() -> None:
    start, end = audit_service.parse_period("2026-Q4")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-10-01T00:00:00+00:00",
        "2027-01-01T00:00:00+00:00",
    )
    start, end = audit_service.parse_period("2026-02")
    assert (start.day, end.month) == (1, 3)
    start, end = audit_service.parse_period("2026-02-28")
    assert (end - start).days == 1
    start, end = audit_service.parse_period("2026")
    assert (start.year, end.year) == (2026, 2027)
    with pytest.raises(Exception, match="cannot read the period"):
        audit_service.parse_period("Q4")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ts", "2020-01-01T00:00:00+00:00"),
        ("user", "mallory"),
        ("role", "viewer"),
        ("action", "status.read2"),
        ("command", "riskcli nothing"),
        ("args", '{"quiet": true}'),
        ("affected", '{"count": 0}'),
        ("outcome", "denied"),
        ("prev_hash", "0" * 64),
        ("hash", "f" * 64),
    ],
)
def test_any_edited_field_names_its_event(busy_store: Path, column: str, value: str) -> None:
    with _open(busy_store) as s:
        s.execute(f"UPDATE audit_events SET {column} = ? WHERE seq = 3", (value,))
        result = audit_service.verify(s, _anchor(busy_store))
    assert not result.ok
    first = result.first_bad
    assert first is not None and first.seq == 3, result.problems
