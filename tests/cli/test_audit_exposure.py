"""`riskcli audit exposure`: exactly the customers a user revealed or exported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.storage import audit
from riskcli.storage.store import open_store

Cli = Callable[..., Any]
EXAMPLES = Path(__file__).parents[2] / "examples"
BOB_PW = "bob's own passphrase here"


@pytest.fixture
def book(store_env: Path, cli: Cli, tmp_path: Path) -> Path:
    for kind in ("customers", "receivables"):
        assert cli("import", kind, str(EXAMPLES / f"{kind}.csv")).exit_code == 0
    pw = tmp_path / "bob.pw"
    pw.write_text(BOB_PW)
    assert (
        cli("user", "add", "bob", "--role", "analyst", "--new-passphrase-file", str(pw)).exit_code
        == 0
    )
    return store_env


def _ids(cli: Cli) -> list[str]:
    rows = json.loads(cli("customers", "list", "--format", "json").stdout)
    return [r["customer_id"] for r in rows]


def _as_bob(cli: Cli, *args: str) -> Any:
    result = cli("--user", "bob", *args, env={"RISKCLI_PASSPHRASE": BOB_PW})
    assert result.exit_code == 0, result.output
    return result


def test_lists_exactly_the_customers_a_user_revealed_or_exported(book: Path, cli: Cli) -> None:
    ids = _ids(cli)
    _as_bob(cli, "customers", "show", ids[0], "--reveal", "--format", "json")
    _as_bob(cli, "customers", "list", "--search", ids[1], "--reveal", "--format", "csv")
    _as_bob(cli, "report", "customer", ids[2], "--reveal", "--format", "json")
    _as_bob(cli, "customers", "show", ids[3], "--format", "json")  # masked: not a reveal
    cli("customers", "show", ids[4], "--reveal", "--format", "json")  # alice, not bob
    result = cli("audit", "exposure", "--user", "bob", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sorted({r["customer_id"] for r in rows}) == sorted(ids[:3])
    first = next(r for r in rows if r["customer_id"] == ids[0])
    assert first["fields"] == "phone, email, national_id"
    assert first["kind"] == "reveal"
    assert first["command"] == "riskcli customers show"
    assert result.stderr.strip() == "3 customer(s) in 3 event(s)."
    everyone = json.loads(cli("audit", "exposure", "--format", "json").stdout)
    assert sorted({r["customer_id"] for r in everyone}) == sorted([*ids[:3], ids[4]])
    later = json.loads(cli("audit", "exposure", "--since", "2999-01-01", "--format", "json").stdout)
    assert later == []
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        last = s.query("SELECT action, outcome FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert last == [{"action": "audit.exposure", "outcome": "ok"}]


def test_an_event_that_does_not_name_its_customers_is_listed_with_a_note(
    book: Path, cli: Cli
) -> None:
    with open_store(book, USER, PASSPHRASE.encode()) as s:  # a reveal recorded before ids were kept
        audit.append_event(
            s.conn, user="bob", role="analyst", action="customers.read",
            command="riskcli customers list", args={"reveal": True},
            affected={"count": 250, "pii_revealed": True}, outcome="ok",
        )  # fmt: skip
    rows = json.loads(cli("audit", "exposure", "--user", "bob", "--format", "json").stdout)
    assert len(rows) == 1
    assert rows[0]["customer_id"] == ""
    assert rows[0]["note"] == (
        "the trail does not say which customers this covered (250 rows): treat every customer "
        "the command could show as affected"
    )


def test_an_analyst_may_not_and_the_attempt_is_audited(book: Path, cli: Cli) -> None:
    result = cli("--user", "bob", "audit", "exposure", env={"RISKCLI_PASSPHRASE": BOB_PW})
    assert result.exit_code == 3
    assert result.stderr == "Error: user bob (role analyst) may not audit.exposure\n"
    assert result.stdout == ""
    with open_store(book, USER, PASSPHRASE.encode()) as s:
        last = s.query("SELECT user, action, outcome FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert last == [{"user": "bob", "action": "audit.exposure", "outcome": "denied"}]
