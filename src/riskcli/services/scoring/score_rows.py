"""What a score run writes: its run row, the score rows of each part, and the run's totals."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import numpy as np

from riskcli.domain.errors import InputError
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.reason_codes import DEFAULT_GRADE
from riskcli.services.scoring.registry import now
from riskcli.services.scoring.scored_part import ScoredPart
from riskcli.storage.store import Store


def insert_run(store: Store, model_id: int, as_of: date, params: str) -> int:
    """The run's row, its totals still empty (`finish_run` fills them in); its id."""
    cur = store.execute(
        "INSERT INTO score_runs (model_id, created_at, created_by, as_of, customers, "
        "params, stats) VALUES (?, ?, ?, ?, 0, ?, '{}')",
        (model_id, now(), store.user, as_of.isoformat(), params),
    )
    return int(cur.lastrowid)


def write_part(store: Store, run_id: int, part: ScoredPart) -> None:
    rows = zip(
        [run_id] * part.customers,
        part.customer_id.tolist(),
        part.score.tolist(),
        part.pd.tolist(),
        part.grade.tolist(),
        part.blobs,
        part.reasons,
        part.recommended.tolist(),
        part.current.tolist(),
        part.over.tolist(),
        part.exposure.tolist(),
        part.expected_loss.tolist(),
        strict=True,
    )
    # the sqlite3 module binds int, float, str and bytearray directly but sends None and
    # bytes through its adapter lookup (a Python call per value): the bins and the reason codes
    # go as bytearrays (BLOBs); reason1..reason4 (texts, before m060) stay NULL
    store.executemany(
        "INSERT INTO scores (run_id, customer_id, score, pd, grade, bins, reasons, "
        "recommended_limit, current_limit, over_limit, exposure, expected_loss) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


class Totals:
    """What a score run records about all its parts."""

    def __init__(self) -> None:
        self.customers = 0
        self.grades: Counter[str] = Counter()
        self.over_limit = 0
        self.overrides = 0
        self.scores: list[np.ndarray] = []
        self.exposure = 0
        self.expected_loss = 0

    def add(self, part: ScoredPart) -> None:
        self.exposure += int(part.exposure.sum())
        self.expected_loss += int(part.expected_loss.sum())
        self.customers += part.customers
        self.grades.update(part.grade.tolist())
        self.over_limit += int(part.over.sum())
        self.overrides += part.overrides
        self.scores.append(part.score)

    def by_grade(self, card: Scorecard) -> dict[str, int]:
        """Customers per grade of the card, and in default, in grade order (zeros included)."""
        grades = [*(g.grade for g in card.grades), DEFAULT_GRADE]
        return {g: int(self.grades.get(g, 0)) for g in grades}


def finish_run(store: Store, run_id: int, totals: Totals, card: Scorecard) -> None:
    """The run's customer count and statistics, once every part is written."""
    stats = {
        "grades": totals.by_grade(card),
        "exposure": totals.exposure,
        "expected_loss": totals.expected_loss,
        "over_limit": totals.over_limit,
        "mean_score": round(float(np.mean(np.concatenate(totals.scores))), 2),
        "overrides": totals.overrides,
    }
    store.execute(
        "UPDATE score_runs SET customers = ?, stats = ? WHERE id = ?",
        (totals.customers, json.dumps(stats), run_id),
    )


def check_customers_still_there(store: Store, run_id: int) -> None:
    gone = store.scalar(
        "SELECT count(*) FROM scores WHERE run_id = ? "
        "AND customer_id NOT IN (SELECT id FROM customers)",
        (run_id,),
    )
    if gone:
        raise InputError(
            f"{gone} customer(s) were removed while the score run read the store; nothing was "
            "stored: run it again"
        )
