"""The installed program writes keyslots at the shipped Argon2id cost, whatever the environment.

The tests get cheap slots only through tests/cheap_kdf (a test-only `sitecustomize`); a process
started without it, as a user starts riskcli, must write the full-cost slot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import riskcli
from riskcli.storage import keyslots
from riskcli.storage.keyslots import KdfParams

SHIPPED = KdfParams()
SRC = str(Path(riskcli.__file__).resolve().parents[1])


def init_slot_cost(db: Path, **env_vars: str) -> tuple[str, int, int, int]:
    """`riskcli init` in a new process; the (alg, t, m, p) of the slot it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.update(
        RISKCLI_PASSPHRASE="correct horse battery staple",
        RISKCLI_DB=str(db),
        RISKCLI_USER="alice",
        **env_vars,
    )
    done = subprocess.run(
        [sys.executable, "-m", "riskcli", "init"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (slot,) = json.loads(Path(f"{db}.keys").read_text())["slots"]
    kdf = slot["kdf"]
    return kdf["alg"], kdf["iterations"], kdf["memory_kib"], kdf["lanes"]


def test_init_writes_the_shipped_cost_with_the_old_switch_set(tmp_path: Path) -> None:
    # riskcli's sources alone on the path, as installed: no test sitecustomize
    cost = init_slot_cost(tmp_path / "book.db", PYTHONPATH=SRC, RISKCLI_KDF_PROFILE="fast")
    assert cost == ("argon2id", SHIPPED.iterations, SHIPPED.memory_kib, SHIPPED.lanes)
    assert (SHIPPED.iterations, SHIPPED.memory_kib, SHIPPED.lanes) == (3, 64 * 1024, 4)


def test_processes_started_by_the_tests_write_cheap_slots(tmp_path: Path) -> None:
    assert init_slot_cost(tmp_path / "book.db") == ("argon2id", 1, 1024, 1)


def test_the_key_derivation_reads_no_environment() -> None:
    source = Path(keyslots.__file__).read_text(encoding="utf-8")
    assert "os.environ" not in source and "getenv" not in source
