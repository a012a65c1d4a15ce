"""Any damage to a backup file ends in a typed error (never a pass, never an internal error)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcli.domain.errors import IntegrityError, RiskError
from riskcli.services import backup as svc
from riskcli.storage.store import create_store

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("fuzz")
    store = create_store(folder / "book.db", "alice", PASSPHRASE)
    try:
        store.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        store.executemany("INSERT INTO notes(body) VALUES (?)", [(f"n{i}",) for i in range(300)])
        return svc.create_backup(store, PASSPHRASE, folder / "bk").path.read_bytes()
    finally:
        store.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_damage_is_always_a_typed_error(
    pristine: bytes, tmp_path: Path, data: st.DataObject
) -> None:
    damaged = bytearray(pristine)
    kind = data.draw(st.sampled_from(["flip", "truncate", "zero-run", "splice"]))
    pos = data.draw(st.integers(min_value=0, max_value=len(pristine) - 1))
    if kind == "flip":
        damaged[pos] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    elif kind == "truncate":
        del damaged[pos:]
    elif kind == "zero-run":
        length = data.draw(st.integers(min_value=1, max_value=5000))
        end = min(len(damaged), pos + length)
        if bytes(damaged[pos:end]) == bytes(end - pos):
            damaged[pos] ^= 0xFF  # make sure something changed
        damaged[pos:end] = bytes(end - pos)
    else:
        other = data.draw(st.integers(min_value=0, max_value=len(pristine) - 64))
        damaged[pos:pos] = pristine[other : other + 64]  # inserted bytes shift everything
    path = tmp_path / "b.rcbk"
    path.write_bytes(bytes(damaged))
    with pytest.raises(RiskError) as info:
        svc.verify_backup(path, "alice", PASSPHRASE)
    assert isinstance(info.value, IntegrityError), str(info.value)
