"""The generator never writes a file that import rejects, whatever the seed and size."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import PASSPHRASE, USER

from riskcli.services.importing import import_files, resolve_source
from riskcli.services.synthetic import FILES, SyntheticConfig, generate
from riskcli.storage.store import create_store


def import_all(folder: Path, db: Path) -> dict[str, int]:
    """Import the seven files in dependency order; {kind: rejected rows}."""
    rejected = {}
    with create_store(db, USER, PASSPHRASE.encode()) as store:
        for name in FILES:
            src = resolve_source(folder / f"{name}.csv", f"{name}.csv")
            result = import_files(store, name, [src], max_rejects=10**9)
            rejected[name] = result.rejected
            assert result.files[0].rows == result.files[0].inserted + result.rejected
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
