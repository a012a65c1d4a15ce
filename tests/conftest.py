"""Shared fixtures: every test gets its own real encrypted store in tmp_path, never a mock."""

from __future__ import annotations

import os
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from riskcli.cli.app import app
from riskcli.storage.keyslots import KdfParams
from riskcli.storage.store import Store, create_store, open_store

PASSPHRASE = "correct horse battery staple"
USER = "alice"
#: a test-only `sitecustomize` that gives riskcli processes started by a test cheap keyslots
CHEAP_KDF_DIR = Path(__file__).parent / "cheap_kdf"


@pytest.fixture(scope="session", autouse=True)
def _cheap_kdf() -> Iterator[None]:
    """Cheap keyslots (Argon2id m=1 MiB, t=1) here and in every process a test starts."""
    cheap = runpy.run_path(str(CHEAP_KDF_DIR / "sitecustomize.py"), run_name="cheap_kdf")["cheap"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(KdfParams, "default", classmethod(cheap))
        inherited = os.environ.get("PYTHONPATH")
        paths = [str(CHEAP_KDF_DIR), *([inherited] if inherited else [])]
        mp.setenv("PYTHONPATH", os.pathsep.join(paths))
        yield


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No inherited riskcli settings, a pinned terminal width."""
    for var in (
        "RISKCLI_DB",
        "RISKCLI_USER",
        "RISKCLI_PASSPHRASE",
        "RISKCLI_PASSPHRASE_FILE",
        "RISKCLI_PASSPHRASE_COMMAND",
        "RISKCLI_CONFIG",
        "RISKCLI_ANCHOR",
        "RISKCLI_DEBUG",
        "RISKCLI_SESSION",
        "RISKCLI_WAIT",
    ):
        monkeypatch.delenv(var, raising=False)
    runtime = tmp_path_factory.mktemp("run")  # beside tmp_path, which some tests list
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # unlock sessions stay in the test
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("RISKCLI_DB", str(tmp_path / "unset.db"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A new encrypted store (admin `alice`) in tmp_path, closed again."""
    path = tmp_path / "book.db"
    create_store(path, USER, PASSPHRASE.encode()).close()
    return path


@pytest.fixture
def store_env(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store of `store_path`, selected for CLI calls through the environment."""
    monkeypatch.setenv("RISKCLI_DB", str(store_path))
    monkeypatch.setenv("RISKCLI_USER", USER)
    monkeypatch.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    return store_path


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    """An open store on `store_path`."""
    s = open_store(store_path, USER, PASSPHRASE.encode())
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def cli() -> Callable[..., Any]:
    """Run riskcli in-process: cli("status", "--format", "json", input=None)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, **kwargs: Any) -> Any:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False, **kwargs)

    return invoke


def create_store_at(path: Path, last_migration: str) -> Store:
    """A new store whose schema stops at `last_migration` (as an older riskcli created it), to
    test what the later migrations do when `open_store` applies them."""
    from functools import partial

    from riskcli.storage import migrations

    with pytest.MonkeyPatch.context() as m:
        m.setattr(migrations, "apply", partial(migrations.apply, upto=last_migration))
        return create_store(path, USER, PASSPHRASE.encode())
