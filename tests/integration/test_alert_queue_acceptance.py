"""Acceptance of the alert queue on a generated book of 10,000 customers, built once for the
module the way a new user would: `riskcli generate`, the seven imports, tier run, expert score,
score run, then monitor runs. The figures are the ones docs/alerts.md and the README quote."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CUSTOMERS = 10_000
AS_OF = "2026-09-30"
NEXT_DAY = "2026-10-01"
KINDS = ("customers", "transactions", "receivables", "contracts", "interactions", "financials")


class Book:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "RISKCLI_DB": str(folder / "book.db"),
            "RISKCLI_USER": "alice",
            "RISKCLI_PASSPHRASE": "acceptance passphrase",
            "NO_COLOR": "1",
        }
        for var in ("RISKCLI_CONFIG", "RISKCLI_PASSPHRASE_FILE", "RISKCLI_PASSPHRASE_COMMAND"):
            self.env.pop(var, None)

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "riskcli", *args], env=self.env, capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"riskcli {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json"))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    folder = tmp_path_factory.mktemp("acceptance")
    b = Book(folder)
    data = folder / "data"
    b("generate", str(data), "-n", str(CUSTOMERS), "--seed", "7", "--as-of", AS_OF)
    b("init")
    for kind in KINDS:
        b("import", kind, str(data / f"{kind}.csv"))
    # the generator writes one duplicate credit report row: it is rejected, the rest imported
    b("import", "credit-reports", str(data / "credit_reports.csv"),
      "--rejects", str(folder / "rejects.csv"), "--max-rejects", "10")  # fmt: skip
    b("tier", "run", "--as-of", AS_OF)
    b("score", "expert")
    b("score", "run", "--as-of", AS_OF)
    yield b


def open_alerts(book: Book) -> list[dict[str, Any]]:
    text = book("monitor", "alerts", "--format", "csv")
    return list(csv.DictReader(io.StringIO(text)))


def test_first_run_and_next_day_stay_a_workable_queue(book: Book) -> None:
    first = book.json("monitor", "run", "--as-of", AS_OF)
    per_thousand = len(first) / CUSTOMERS * 1000
    alerts = open_alerts(book)
    customers = {a["customer"] for a in alerts if a["customer"]}
    assert per_thousand <= 150, per_thousand
    assert len(customers) <= 0.25 * CUSTOMERS
    overdue = [a["customer"] for a in alerts if a["rule"] == "payment_overdue"]
    assert len(overdue) == len(set(overdue))  # one overdue case per customer
    assert {"default", "payment_overdue", "exposure_limit", "score_limit"} <= {
        a["rule"] for a in alerts
    }

    # the queue: the 20 open alerts with the highest money at risk, in that order
    queue = book.json("monitor", "queue", "--limit", "20")
    ranked = sorted(alerts, key=lambda a: (-float(a["priority"]), int(a["id"])))
    assert [q["id"] for q in queue] == [int(a["id"]) for a in ranked[:20]]
    assert all(float(q["priority"]) > 0 for q in queue)

    nxt = book.json("monitor", "run", "--as-of", NEXT_DAY)
    changes = [a for a in nxt if a["change"] in ("new", "escalated", "reopened")]
    assert len(changes) / CUSTOMERS * 1000 <= 10


def test_a_new_champion_raises_no_score_change(book: Book) -> None:
    book("monitor", "run", "--as-of", AS_OF)
    trained = book.json("score", "train", "--from-store", "--as-of", "2025-09-30")
    model = trained[0] if isinstance(trained, list) else trained
    book("score", "models", "promote", str(model["id"]))
    book("score", "run", "--as-of", AS_OF)
    raised = book.json("monitor", "run", "--as-of", AS_OF)
    assert not [a for a in raised if a["rule"] == "score_change"]
    assert not [a for a in open_alerts(book) if a["rule"] == "score_change"]
