"""The one command boundary (`session()`): roll back what a failing command left open, then
record its audit event; exit 10 from monitoring is a successful run; the passphrase is kept only
when asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.cli.context import Globals, get_globals, session, set_globals
from riskcli.domain.errors import AlertsFound, InputError
from riskcli.storage.store import open_store


@pytest.fixture
def selected(store_env: Path) -> Iterator[Path]:
    before = get_globals()
    set_globals(Globals(db=store_env, user=USER))
    try:
        yield store_env
    finally:
        set_globals(before)


def last_event(db: Path) -> dict[str, Any]:
    store = open_store(db, USER, PASSPHRASE.encode())
    try:
        (row,) = store.query(
            "SELECT action, outcome, affected FROM audit_events ORDER BY seq DESC LIMIT 1"
        )
        tables = store.tables()
    finally:
        store.close()
    return {**row, "affected": json.loads(row["affected"]), "tables": tables}


def test_a_failing_command_is_rolled_back_then_audited(selected: Path) -> None:
    with pytest.raises(InputError), session(None, "customers.write") as s:
        s.store.execute("BEGIN IMMEDIATE")
        s.store.execute("CREATE TABLE scratch (x)")
        s.audit_affected(rows=3)
        raise InputError("bad row")
    event = last_event(selected)
    assert "scratch" not in event["tables"]
    assert (event["action"], event["outcome"]) == ("customers.write", "error")
    assert event["affected"] == {"rows": 3, "error": "InputError", "exit_code": 1}


def test_alerts_found_is_recorded_as_a_successful_run(selected: Path) -> None:
    with pytest.raises(AlertsFound), session(None, "monitor.run") as s:
        s.audit_affected(alerts=2)
        raise AlertsFound("2 alerts at or above high")
    event = last_event(selected)
    assert event["outcome"] == "ok" and event["affected"] == {"alerts": 2, "exit_code": 10}


def test_the_passphrase_is_kept_only_when_asked_for(selected: Path) -> None:
    with session(None, "backup.create", keep_secret=True) as s:
        assert s.secret == PASSPHRASE.encode()
    with session(None, "status.read") as s, pytest.raises(RuntimeError, match="did not keep"):
        _ = s.secret
