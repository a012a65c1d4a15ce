"""The provision matrix (CAS 22 / IFRS 9 simplified approach): lifetime expected credit losses
on trade receivables as of a date.

Collective part: a loss rate per aging bucket from the history of the lookback, times an
overlay for forward-looking information, times each bucket's balance. The historical rate is
either

- `roll-rate`: the month-to-month flows of every bucket (to each bucket, collected, written
  off) pooled over the lookback, read as a chain whose ends are "collected" and "lost" (written
  off, or reaching the last bucket); a bucket's loss rate is the chance that its balance ends
  lost, i.e. the chained roll rates, with the stays and skips a monthly step has; or
- `write-off`: of the balance a bucket held at each month-end of the lookback, the share that
  was written off by the as-of date.

Customers in default on the date (the book's default state) are assessed individually: 100% of
the exposure (`individual = "full"`, no collateral is recorded so no recovery is expected), or
the `[credit.loss]` LGD of their industry (`individual = "lgd"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from riskcli.services.book import BookAtDates, DefaultPolicy, LossPolicy, default_state
from riskcli.services.receivables.analytics import roll_flows, written_off_between
from riskcli.services.receivables.settings import Buckets, ProvisionsConfig
from riskcli.storage.store import Store


def roll_rate_losses(flows: np.ndarray, loss_bucket_rate: float = 1.0) -> np.ndarray:
    """Loss rate per bucket from pooled flows (buckets x [buckets, collected, written off]).

    Every bucket but the last is a transient state; collected, written off and the last bucket
    absorb. Loss rate = the probability of absorption in "written off" or the last bucket (whose
    own rate is `loss_bucket_rate`): r = (I - Q)^-1 (q_last * loss_bucket_rate + q_written_off).
    A bucket with no balance in the lookback is taken to roll on to the next one (prudent).
    """
    nb = flows.shape[0]
    t = nb - 1
    total = flows[:t].sum(axis=1)
    p = np.zeros((t, nb + 2))
    seen = total > 0
    p[seen] = flows[:t][seen] / total[seen, None]
    stuck = np.diagonal(p[:, :t]) >= 1 - 1e-12  # never leaves: the chain would not end
    for b in np.flatnonzero(~seen | stuck):
        p[b] = 0.0
        p[b, b + 1] = 1.0
    q = p[:, :t]
    lost = p[:, t] * loss_bucket_rate + p[:, nb + 1]
    try:
        rates = np.linalg.solve(np.eye(t) - q, lost)
    except np.linalg.LinAlgError:
        rates = np.linalg.lstsq(np.eye(t) - q, lost, rcond=None)[0]
    return np.asarray(np.clip(np.append(rates, loss_bucket_rate), 0.0, 1.0))


def write_off_losses(book: BookAtDates, first: int, last: int, buckets: Buckets) -> np.ndarray:
    """Loss rate per bucket: of each bucket's balance at the month-ends dates[first..last-1],
    the share written off by dates[last] (0 where a bucket held nothing)."""
    nb = len(buckets)
    num, den = np.zeros(nb), np.zeros(nb)
    end = book.dates[last]
    for k in range(first, last):
        bal = book.balance[:, k]
        on = bal > 0
        b = buckets.index(book.days_past_due(k)[on])
        den += np.bincount(b, weights=bal[on], minlength=nb)
        later = written_off_between(book, book.dates[k], end)[on]
        lost = np.minimum(book.written_off[on], bal[on])
        num += np.bincount(b[later], weights=lost[later], minlength=nb)
    out = np.zeros(nb)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True)
class Provision:
    """A provision as of book.dates[k] (money in cents)."""

    as_of: date
    historical: np.ndarray  # loss rate per bucket from the history
    adjustment: np.ndarray  # per-bucket forward-looking factor (config)
    rate: np.ndarray  # historical x overlay x adjustment, capped at 1
    flows: np.ndarray  # pooled roll flows of the lookback (roll-rate method)
    invoice_bucket: np.ndarray  # per invoice open on the date: its bucket (-1: not open)
    invoice_provision: np.ndarray  # per invoice (cents, float)
    individual: np.ndarray  # per invoice: customer assessed individually
    balance: np.ndarray  # per invoice on the date (cents)


def provision_at(
    store: Store,
    book: BookAtDates,
    k: int,
    lookback: int,
    cfg: ProvisionsConfig,
    buckets: Buckets,
    *,
    overlay: float,
    method: str,
    default_policy: DefaultPolicy,
    loss: LossPolicy,
    industry_of: np.ndarray,
    steps: list[np.ndarray] | None = None,
) -> Provision:
    """The provision on book.dates[k] with the history of the `lookback` month-ends before it
    (book.dates[k - lookback .. k]); `industry_of[customer_id]` for the LGD; `steps[j]` the
    roll flows from dates[j] to dates[j + 1] when already computed."""
    nb = len(buckets)
    first = max(k - lookback, 0)
    flows = np.zeros((nb, nb + 2))
    for j in range(first, k):
        flows += steps[j] if steps is not None else roll_flows(book, j, buckets)
    if method == "write-off":
        historical = write_off_losses(book, first, k, buckets)
    else:
        historical = roll_rate_losses(flows, cfg.loss_bucket_rate)
    adjustment = np.array([cfg.adjustments.get(label, 1.0) for label in buckets.labels])
    rate = np.minimum(historical * overlay * adjustment, 1.0)
    bal = book.balance[:, k]
    on = bal > 0
    bucket = np.where(on, buckets.index(book.days_past_due(k)), -1)
    prov = np.where(on, bal * rate[np.maximum(bucket, 0)], 0.0)
    day = book.dates[k]
    state = default_state(store, day, default_policy)
    defaulted = state.ids[state.in_default]
    individual = on & np.isin(book.customer_id, defaulted)
    if individual.any():
        if cfg.individual == "lgd":
            lgd = loss.lgd_of(industry_of[book.customer_id[individual]])
        else:
            lgd = np.ones(int(individual.sum()))
        prov[individual] = bal[individual] * lgd
    return Provision(
        as_of=day,
        historical=historical,
        adjustment=adjustment,
        rate=rate,
        flows=flows,
        invoice_bucket=bucket,
        invoice_provision=prov,
        individual=individual,
        balance=bal,
    )
