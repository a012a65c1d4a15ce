"""Scores without the index by customer: a score run's cost no longer grows with history.

Every run adds one row per customer. An index led by customer_id puts each new entry at the end
of its customer's group, so every run rewrote pages all over that index (each decrypted,
changed, encrypted and written through the WAL). Measured (benchmarks/bench_score_history.py,
100,000 customers a run): the write of one run took 0.55 s of CPU with no run kept and 3.56 s
after 119 runs kept with the index, and stayed at 0.4-0.7 s without it. The primary key
(run_id, customer_id) takes each run's rows in order at its end.

One customer's history is read run by run through the primary key (score_runs is small: one
row per run), e.g. `FROM score_runs r CROSS JOIN scores s ON s.run_id = r.id AND s.customer_id
= ?`; the query-plan tests keep every reader on that path. riskcli never deletes a customer,
so the ON DELETE CASCADE from customers never has to find a customer's scores.
"""

from __future__ import annotations

from riskcli.storage.dbapi import Connection


def migrate(conn: Connection) -> None:
    conn.execute("DROP INDEX IF EXISTS scores_customer")
