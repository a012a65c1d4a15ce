"""`score run`: the book's factors read and scored in parts (by two processes on a large store)
and kept as one run, in one transaction; and what such a run reads and how the card fits it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from functools import partial
from itertools import chain
from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.factor_columns import CONTEXT_COLUMNS, FRAME_COLUMNS
from riskcli.services.scoring.reason_codes import check_reason_codes
from riskcli.services.scoring.registry import ModelRecord, get_model
from riskcli.services.scoring.score_rows import (
    Totals,
    check_customers_still_there,
    finish_run,
    insert_run,
    write_part,
)
from riskcli.services.scoring.scored_part import ScoredPart, score_part
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store

Progress = Callable[[str], None]

#: what the default state, the limit policy and expected loss read beside the context
_POLICY_COLUMNS = ("in_default", "industry", "bureau_score")

#: a categorical factor whose "another value" bin holds more than this share of the customers
#: does not fit the book (e.g. English industry groups on a book kept in Chinese)
OTHER_SHARE_WARNING = 0.5


def run(
    store: Store,
    cfg: ScoringConfig,
    *,
    ref: str | None = None,
    as_of: date | None = None,
    customer: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score customers from the store and keep the run (one transaction).

    The customers arrive in parts in customer order (on a large store most are read and scored
    by a second process meanwhile); each part is written as it arrives, inside the one
    transaction, and the run's totals are filled in at the end.
    """
    model = get_model(store, ref)
    check_reason_codes(model.card)
    if as_of is None:
        as_of = latest_activity(store) or date.today()
    say = progress or (lambda _m: None)
    # any commit by another connection from here on changes this number (see _write_run)
    version = int(store.scalar("PRAGMA data_version"))
    with ExitStack() as stack:
        parts = _scored_parts(store, stack, model, cfg, as_of, customer, say)
        params = json.dumps({"customer": customer, "limits": cfg.limits.model_dump(mode="json")})
        run_id, totals = _write_run(store, model, as_of, params, parts, version, say)
    return {
        "run": run_id,
        "model": model.label,
        "as_of": as_of.isoformat(),
        "customers": totals.customers,
        **{f"grade_{g}": n for g, n in totals.by_grade(model.card).items()},
        "expected_loss": f"{totals.expected_loss / 100:.2f}",
        "over_limit": totals.over_limit,
        "overrides": totals.overrides,
    }


def _scored_parts(
    store: Store,
    stack: ExitStack,
    model: ModelRecord,
    cfg: ScoringConfig,
    as_of: date,
    customer: str | None,
    say: Progress,
) -> Iterator[ScoredPart]:
    """The scored parts in customer order, the first one already read and scored, so a book
    with nothing to score fails before anything is written."""
    missing = [f.name for f in model.card.factors if f.name not in FRAME_COLUMNS]
    # unseen categories as an error count all customers at once: score them in one go
    whole = bool(missing) or any(
        f.type == "categorical" and f.unseen_category == "error" for f in model.card.factors
    )
    score = partial(score_part, model, cfg)
    needed = needed_columns(model.card)
    parts: Iterator[Any]
    if customer is not None:
        frame = store_factors.build_factors(
            store, as_of, customer=customer, progress=say, needed=needed, policy=cfg.default_policy
        )
        parts = iter([frame if whole else score(frame)])
    else:
        parts = stack.enter_context(
            store_factors.factor_parts(
                store,
                as_of,
                progress=say,
                needed=needed,
                then=None if whole else score,
                policy=cfg.default_policy,
            )
        )
    if whole:
        return iter([_score_whole(model, parts, missing, score)])
    return _not_all_empty(parts)


def _score_whole(
    model: ModelRecord,
    frames: Iterator[pd.DataFrame],
    missing: list[str],
    score: Callable[[pd.DataFrame], ScoredPart],
) -> ScoredPart:
    """Every customer's factors as one frame, scored in one go."""
    frame = pd.concat([next(frames), *frames], ignore_index=True)
    if frame.empty:
        raise InputError("no customers to score")
    if missing:
        raise InputError(
            f"{model.label} uses factors the store does not provide "
            f"({', '.join(missing)}); it was trained on a file: use `riskcli score apply`"
        )
    return score(frame)


def _not_all_empty(parts: Iterator[ScoredPart]) -> Iterator[ScoredPart]:
    """The parts, once the first is read; an error when every part is empty."""
    first = next(parts)
    if first.customers == 0:  # only when every part is empty, as before
        rest = list(parts)
        if not any(p.customers for p in rest):
            raise InputError("no customers to score")
        return chain([first], rest)
    return chain([first], parts)


def _write_run(
    store: Store,
    model: ModelRecord,
    as_of: date,
    params: str,
    parts: Iterator[ScoredPart],
    version: int,
    say: Progress,
) -> tuple[int, Totals]:
    """Write the run and every part as it arrives, in one transaction; the run's id and totals.

    Every customer id written was read from `customers` by this run and riskcli never deletes
    a customer, so the per-row foreign-key probe is off for the write (it would cost the single
    writer's CPU on every row); when another connection committed anything since the reading
    began, the rows are checked against `customers` before the commit.
    """
    with store.references_checked(), store.transaction():
        run_id = insert_run(store, model.id, as_of, params)
        totals = Totals()
        say("writing")
        for part in parts:
            write_part(store, run_id, part)
            totals.add(part)
        finish_run(store, run_id, totals, model.card)
        if int(store.scalar("PRAGMA data_version")) != version:
            check_customers_still_there(store, run_id)
    return run_id, totals


def needed_columns(card: Scorecard) -> frozenset[str]:
    """The factor-frame columns a `score run` with this model reads: its factors, its overrides'
    flags and the context the limit policy uses."""
    overrides = [o.factor for o in card.overrides]
    return frozenset([*card.factor_names, *overrides, *CONTEXT_COLUMNS, *_POLICY_COLUMNS])


def category_warnings(store: Store, card: Scorecard) -> list[str]:
    """One line per categorical factor of the card whose "another value" bin holds more than
    half of the customers with a value: its groups do not name the book's values."""
    out: list[str] = []
    for f in card.factors:
        if f.type != "categorical" or f.name not in ("industry", "region"):
            continue
        named = {v for b in f.bins if b.kind == "categories" for v in b.values}
        counts = store.query(
            f"SELECT {f.name} AS v, count(*) AS n FROM customers "
            f"WHERE {f.name} IS NOT NULL AND {f.name} != '' GROUP BY {f.name}"
        )
        total = sum(int(r["n"]) for r in counts)
        other = {str(r["v"]): int(r["n"]) for r in counts if str(r["v"]).strip() not in named}
        if total and sum(other.values()) / total > OTHER_SHARE_WARNING:
            common = sorted(other, key=lambda v: -other[v])[:5]
            out.append(
                f"{sum(other.values()) / total:.0%} of customers fall in {f.name}'s "
                f'"another value" bin: its groups name none of {", ".join(common)}; '
                "adapt the scorecard's groups to the book"
            )
    return out
