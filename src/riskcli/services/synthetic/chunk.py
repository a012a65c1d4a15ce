"""One chunk of customers and everything that refers to them, drawn from the chunk's own random
stream and formatted as the seven files' CSV bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskcli.services.synthetic.arrays import day
from riskcli.services.synthetic.config import CHUNK, SyntheticConfig
from riskcli.services.synthetic.customers import customers_csv
from riskcli.services.synthetic.drivers import draw_population
from riskcli.services.synthetic.orders import (
    draw_invoices,
    draw_orders,
    receivables_csv,
    transactions_csv,
)
from riskcli.services.synthetic.records import contracts, credit_reports, financials, interactions


@dataclass
class Chunk:
    """A chunk's CSV bytes and row count per file, and its counts for the summary."""

    data: dict[str, bytes]
    rows: dict[str, int]
    prospects: int
    late_payers: int
    defaulters: int


def generate_chunk(config: SyntheticConfig, chunk: int) -> Chunk:
    """Customers [chunk*CHUNK, ...) and everything that refers to them, as CSV bytes per file.

    The steps draw from one random stream seeded by (seed, chunk), in this order: changing the
    order changes every byte after it.
    """
    first = chunk * CHUNK
    n = min(CHUNK, config.customers - first)
    rng = np.random.default_rng([config.seed, chunk])
    pop = draw_population(rng, first, n, day(config.as_of))
    orders = draw_orders(rng, pop, config.transactions_per_customer)
    invoices = draw_invoices(rng, pop, orders)
    transactions = transactions_csv(rng, pop, orders, invoices)
    receivables = receivables_csv(pop, orders, invoices)
    customers = customers_csv(rng, pop, orders, invoices)
    parts = {
        "credit_reports": credit_reports(rng, pop),
        "contracts": contracts(rng, pop, orders),
        "interactions": interactions(rng, pop),
        "financials": financials(rng, pop, orders),
    }
    return Chunk(
        data={
            "customers": customers,
            "transactions": transactions[0],
            "receivables": receivables,
            **{name: part[0] for name, part in parts.items()},
        },
        rows={
            "customers": n,
            "transactions": transactions[1],
            "receivables": int(orders.owner.shape[0]),
            **{name: part[1] for name, part in parts.items()},
        },
        prospects=int((orders.per_customer == 0).sum()),
        late_payers=int(invoices.late_payer.sum()),
        defaulters=int(invoices.defaulted.sum()),
    )
