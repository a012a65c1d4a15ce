"""The whole scoring job as one SQL query: on a generated book of 3,000 customers, its score,
PD, grade, limit, over-limit flag, exposure and EL equal `score run`'s row for row, on DuckDB
(over the Parquet export) and on SQLite (over a plain copy of the canonical tables); Spark and
PostgreSQL where they can run here."""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.conftest import PASSPHRASE, USER
from typer.testing import CliRunner

from riskcli.cli.app import app
from riskcli.services.scoring.reason_codes import ReasonTexts
from riskcli.services.scoring.registry import get_model
from riskcli.storage.store import open_store

KINDS = ("customers", "transactions", "receivables", "credit_reports", "contracts",
         "interactions", "financials")  # fmt: skip
QUERY_TABLES = ("customers", "receivables", "transactions", "financials", "credit_reports")
AS_OF = "2026-06-30"  # back-dated: the as-of rules matter


@dataclass
class Book:
    db: Path
    lake: Path
    tmp: Path
    scores: pd.DataFrame

    def cli(self, *args: str) -> str:
        env = {
            "RISKCLI_KDF_PROFILE": "fast",
            "RISKCLI_USER": USER,
            "RISKCLI_PASSPHRASE": PASSPHRASE,
        }
        result = CliRunner().invoke(app, ["--db", str(self.db), *args], env=env,
                                    catch_exceptions=False)  # fmt: skip
        assert result.exit_code == 0, result.output
        return str(result.stdout)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    tmp = tmp_path_factory.mktemp("full")
    with pytest.MonkeyPatch.context() as m:
        for key in ("RISKCLI_CONFIG", "RISKCLI_PASSPHRASE_FILE", "RISKCLI_PASSPHRASE_COMMAND"):
            m.delenv(key, raising=False)
        m.setenv("RISKCLI_KDF_PROFILE", "fast")
        m.setenv("RISKCLI_USER", USER)
        m.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
        m.setenv("COLUMNS", "200")
        b = Book(tmp / "book.db", tmp / "lake", tmp, pd.DataFrame())
        runner = CliRunner()
        data = tmp / "data"
        out = runner.invoke(app, ["generate", str(data), "-n", "3000", "--seed", "7"])
        assert out.exit_code == 0, out.output
        _mix_terms(data / "receivables.csv")
        b.cli("init")
        for kind in KINDS:
            rejects = str(data / f"{kind}.rejects.csv")
            csv = str(data / f"{kind}.csv")
            b.cli(
                "import", kind.replace("_", "-"), csv, "--max-rejects", "10", "--rejects", rejects
            )
        b.cli("score", "expert")
        b.cli("score", "run", "--as-of", AS_OF, "-q")
        b.cli("export", "parquet", str(b.lake))
        with open_store(b.db, USER, PASSPHRASE.encode()) as store:
            b.scores = store.query_df(
                "SELECT c.external_id AS customer_id, s.score, s.pd, s.grade, s.bins, s.reasons, "
                "s.recommended_limit, s.current_limit, s.over_limit, s.exposure, "
                "s.expected_loss FROM scores s JOIN customers c ON c.id = s.customer_id "
                "ORDER BY c.external_id"
            )
            texts = ReasonTexts(get_model(store).card)
        b.scores["reason1"] = [
            (texts.stored(bins, codes) or [None])[0]
            for bins, codes in zip(b.scores["bins"], b.scores["reasons"], strict=True)
        ]
        yield b


def _mix_terms(path: Path) -> None:
    """Every third invoice due 17 days later: the generator gives each customer one payment
    term, and the median of mixed terms (read for the limit) needs customers with several."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    later = pd.to_datetime(frame["due_date"]) + pd.Timedelta(days=17)
    pick = frame.index % 3 == 0
    frame.loc[pick, "due_date"] = later[pick].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)


def _compare(scores: pd.DataFrame, got: pd.DataFrame) -> None:
    """Row for row: the same customers, scores to 1e-9, the rest exactly."""
    got = got.sort_values("customer_id").reset_index(drop=True)
    assert got["customer_id"].tolist() == scores["customer_id"].tolist()
    assert (got["score"].astype(float) - scores["score"]).abs().max() <= 1e-9
    assert got["pd"].astype(float).tolist() == scores["pd"].tolist()
    assert got["grade"].tolist() == scores["grade"].tolist()
    for mine, theirs in (
        ("recommended_limit_cents", "recommended_limit"),
        ("current_limit_cents", "current_limit"),
        ("over_limit", "over_limit"),
        ("exposure_cents", "exposure"),
        ("expected_loss_cents", "expected_loss"),
    ):
        assert got[mine].astype("int64").tolist() == scores[theirs].tolist(), mine  # fmt: skip
    assert got["reason1"].tolist() == scores["reason1"].tolist()
    # the book is varied enough for the comparison to mean something
    assert {"A", "B", "C", "D", "DF"} <= set(scores["grade"])


def _query(book: Book, dialect: str, *extra: str) -> str:
    return book.cli("score", "export", "champion", "--format", "sql", "--full",
                    "--dialect", dialect, *extra)  # fmt: skip


def _duckdb(lake: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in QUERY_TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{lake / t}.parquet')")
    return con


@pytest.mark.slow
def test_duckdb_over_the_parquet_export_equals_score_run(book: Book) -> None:
    got = _duckdb(book.lake).execute(_query(book, "duckdb", "--as-of", AS_OF)).df()
    _compare(book.scores, got)


@pytest.mark.slow
def test_duckdb_with_the_date_as_a_parameter_equals_score_run(book: Book) -> None:
    sql = _query(book, "duckdb", "--as-of-param")
    assert AS_OF not in sql and "$as_of" in sql
    got = _duckdb(book.lake).execute(sql, {"as_of": AS_OF}).df()
    _compare(book.scores, got)


def _sqlite_copy(lake: Path, path: Path) -> sqlite3.Connection:
    """The canonical tables in plain SQLite: dates as ISO text, money as decimal text."""
    con = sqlite3.connect(path)
    for t in QUERY_TABLES:
        frame = pq.read_table(lake / f"{t}.parquet").to_pandas()
        for c in frame.columns:
            frame[c] = [
                str(v) if isinstance(v, Decimal | dt.date) else None if pd.isna(v) else v
                for v in frame[c]
            ]
        frame.to_sql(t, con, index=False)
    return con


@pytest.mark.slow
@pytest.mark.parametrize("param", [False, True])
def test_sqlite_over_a_plain_copy_equals_score_run(book: Book, param: bool) -> None:
    con = _sqlite_copy(book.lake, book.tmp / f"plain{param}.sqlite")
    sql = _query(book, "sqlite", *(["--as-of-param"] if param else ["--as-of", AS_OF]))
    cur = con.execute(sql, {"as_of": AS_OF} if param else {})
    got = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    _compare(book.scores, got)


@pytest.mark.slow
def test_spark_local_equals_score_run(book: Book) -> None:
    """One local session on the small book (`make test EXTRAS=spark`, which `.ci/run` uses
    where Java is present)."""
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark (pyspark 4 needs Java 17 or later)")
    pytest.importorskip("pyspark", reason="pyspark is not installed (make test EXTRAS=spark)")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]").appName("riskcli-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")  # a few thousand rows: not 200 tasks a step
        .getOrCreate()
    )  # fmt: skip
    try:
        for t in QUERY_TABLES:
            spark.read.parquet(str(book.lake / f"{t}.parquet")).createOrReplaceTempView(t)
        got = spark.sql(_query(book, "spark", "--as-of", AS_OF)).toPandas()
    finally:
        spark.stop()
    _compare(book.scores, got)


def _server_tools() -> dict[str, str] | None:
    """initdb, pg_ctl and psql: on PATH, or where Debian keeps the server's own tools."""
    extra = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    path = os.pathsep.join([os.environ.get("PATH", ""), *extra])
    found = {t: shutil.which(t, path=path) for t in ("initdb", "pg_ctl", "psql")}
    return {t: p for t, p in found.items() if p} if all(found.values()) else None


def _as_server_user() -> list[str] | None:
    """The prefix that runs PostgreSQL's server tools (they refuse root), or None."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else None


def _pg_type(duck: str) -> str:
    same = {"VARCHAR": "TEXT", "DOUBLE": "DOUBLE PRECISION"}
    return same.get(duck, "NUMERIC(18,2)" if duck.startswith("DECIMAL") else duck)


@dataclass
class Postgres:
    """A throwaway PostgreSQL server holding the canonical tables of the book."""

    psql: list[str]
    tmp: Path

    def run(self, sql: str, **variables: str) -> pd.DataFrame:
        """The rows of one query, through psql (its `:'name'` variables set)."""
        script = self.tmp / "query.sql"
        script.write_text(f"COPY (\n{sql.rstrip().rstrip(';')}\n) TO STDOUT (FORMAT csv, HEADER)\n")
        out = self.tmp / "out.csv"
        sets = [a for k, v in variables.items() for a in ("-v", f"{k}={v}")]
        done = subprocess.run(
            [*self.psql, "-q", *sets, "-o", str(out), "-f", str(script)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return pd.read_csv(out, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def postgres(book: Book) -> Iterator[Postgres]:
    """A server started for this module on a unix socket of its own (no TCP port), with the
    Parquet export loaded; stopped and removed afterwards."""
    tools, prefix = _server_tools(), _as_server_user()
    if tools is None:
        pytest.skip("no PostgreSQL server tools here (initdb, pg_ctl, psql)")
    if prefix is None:
        pytest.skip("running as root with no 'postgres' user to run the server as")
    # not under tmp_path: the server's user must reach its data and socket directory, and
    # pytest keeps its temporary root private to the user running the tests
    home = Path(tempfile.mkdtemp(prefix="riskcli-pg-"))
    if prefix:
        server = pwd.getpwnam("postgres")
        os.chown(home, server.pw_uid, server.pw_gid)
    data, quiet = home / "data", {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    options = f"-k {home} -c listen_addresses='' -c fsync=off"
    # the server's output goes to a log file: a pipe would be held open by the server
    pg_ctl = [*prefix, tools["pg_ctl"], "-D", str(data), "-w"]
    try:
        init = [*prefix, tools["initdb"], "-D", str(data), "-U", "riskcli", "--auth=trust"]
        subprocess.run(init, check=True, capture_output=True)
        start = [*pg_ctl, "-o", options, "-l", str(home / "log"), "start"]
        subprocess.run(start, check=True, **quiet)  # type: ignore[call-overload]
        psql = [tools["psql"], "-h", str(home), "-U", "riskcli", "-d", "postgres"]
        psql += ["-v", "ON_ERROR_STOP=1"]
        con = duckdb.connect()
        lines = []
        for t in QUERY_TABLES:
            path = book.tmp / f"{t}.csv"
            source = f"read_parquet('{book.lake / t}.parquet')"
            con.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (HEADER)")
            cols = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            ddl = ", ".join(f"{c} {_pg_type(typ)}" for c, typ, *_ in cols)
            lines += [f"CREATE TABLE {t} ({ddl});", f"\\copy {t} FROM '{path}' CSV HEADER"]
        script = book.tmp / "load.sql"
        script.write_text("\n".join(lines) + "\n")
        done = subprocess.run([*psql, "-q", "-f", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        yield Postgres(psql, book.tmp)
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], **quiet)  # type: ignore[call-overload]
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("param", [False, True])
def test_postgres_equals_score_run(book: Book, postgres: Postgres, param: bool) -> None:
    if param:
        sql = _query(book, "postgres", "--as-of-param")
        assert AS_OF not in sql and ":'as_of'" in sql
        got = postgres.run(sql, as_of=AS_OF)
    else:
        got = postgres.run(_query(book, "postgres", "--as-of", AS_OF))
    _compare(book.scores, got)


def test_the_query_is_written_by_the_cli_for_every_dialect(book: Book) -> None:
    for dialect in ("duckdb", "spark", "postgres", "sqlite"):
        sql = _query(book, dialect, "--as-of", AS_OF)
        assert sql.startswith("-- riskcli scorecard") and "FROM lm" in sql
    assert sys.executable
