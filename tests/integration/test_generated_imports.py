"""The generator never writes a file that import rejects, whatever the seed and size."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import PASSPHRASE, USER

from riskcli.services.importing import resolve_source
from riskcli.services.importing.folder import book_files
from riskcli.services.importing.service import import_plan
from riskcli.services.synthetic import FILES, SyntheticConfig, generate
from riskcli.storage.store import create_store


def import_all(folder: Path, db: Path) -> dict[str, int]:
    """Import the seven files as `import book` does; {kind: rejected rows}. A small book may
    hold a kind with no row at all (a header alone): left out, as the book import does."""
    plan, ignored = book_files(folder)
    assert ignored == []
    sources = [(kind, [resolve_source(p, p.name) for p in paths]) for kind, paths in plan]
    with create_store(db, USER, PASSPHRASE.encode()) as store:
        result = import_plan(store, sources, max_rejects=10**9, skip_empty=True)
    rejected = dict.fromkeys(FILES, 0)
    for f in result.files:
        rejected[f.kind] = f.rejected
        assert f.rows == f.inserted + f.rejected
    for name in result.empty:
        assert (folder / name).read_text(encoding="utf-8").count("\n") == 1  # a header alone
    return rejected


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**63 - 1),
    customers=st.integers(1, 1500),
    as_of=st.dates(date(2001, 1, 1), date(2189, 12, 31)),
)
def test_every_generated_row_imports(
    tmp_path: Path, seed: int, customers: int, as_of: date
) -> None:
    work = tmp_path / f"g{seed}-{customers}"
    shutil.rmtree(work, ignore_errors=True)
    generate(work / "book", SyntheticConfig(customers=customers, seed=seed, as_of=as_of))
    assert import_all(work / "book", work / "s.db") == dict.fromkeys(FILES, 0)


def test_the_reported_seed_imports_whole(tmp_path: Path) -> None:
    """`generate book -n 10000 --seed 7` once wrote two credit reports of one customer, provider
    and day (clipped to the registration day)."""
    generate(tmp_path / "book", SyntheticConfig(customers=10_000, seed=7))
    assert import_all(tmp_path / "book", tmp_path / "s.db") == dict.fromkeys(FILES, 0)
