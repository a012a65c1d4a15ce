"""Run riskcli's exported scoring query on DuckDB over the Parquet export.

riskcli export parquet lake
riskcli score export champion --format sql --full --dialect duckdb --as-of 2026-09-30 > score.sql
python examples/spark/run_duckdb.py lake score.sql scores.csv
"""

import sys

import duckdb

TABLES = ("customers", "receivables", "transactions", "financials", "credit_reports")

lake, query, out = sys.argv[1:4]
con = duckdb.connect()
for table in TABLES:
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{lake}/{table}.parquet')")
con.execute(f"COPY ({open(query, encoding='utf-8').read()}) TO '{out}' (HEADER)")
