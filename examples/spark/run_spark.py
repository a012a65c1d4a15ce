"""Run riskcli's exported scoring query on Spark over the Parquet export.

riskcli export parquet lake
riskcli score export champion --format sql --full --dialect spark --as-of 2026-09-30 > score.sql
python examples/spark/run_spark.py lake score.sql scores.csv
"""

import sys

from pyspark.sql import SparkSession

TABLES = ("customers", "receivables", "transactions", "financials", "credit_reports")

lake, query, out = sys.argv[1:4]
spark = SparkSession.builder.appName("riskcli-score").getOrCreate()
for table in TABLES:
    spark.read.parquet(f"{lake}/{table}.parquet").createOrReplaceTempView(table)
scores = spark.sql(open(query, encoding="utf-8").read())
scores.toPandas().to_csv(out, index=False)  # on a real lake: scores.write.parquet(...)
spark.stop()
