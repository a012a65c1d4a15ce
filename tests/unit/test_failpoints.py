"""Failpoints: one variable, named points, crash and pause; nothing when unset."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import riskcli
from riskcli import failpoints

SRC = Path(riskcli.__file__).parent


def test_every_call_site_names_a_known_point() -> None:
    used = {
        name
        for path in SRC.rglob("*.py")
        for name in re.findall(r'failpoint\("([^"]+)"\)', path.read_text(encoding="utf-8"))
    }
    assert used == set(failpoints.POINTS)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("restore:staged", "cannot read 'restore:staged'"),
        ("restore:staged=explode", "cannot read 'restore:staged=explode'"),
        ("no:such=crash", "no failpoint named 'no:such'"),
    ],
)
def test_a_malformed_spec_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        failpoints.parse(spec)


def test_unset_points_do_nothing_and_pause_writes_its_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "paused"
    monkeypatch.setattr(failpoints, "PAUSE_SECONDS", 0.0)
    try:
        failpoints.configure(f" restore:staged=crash ; monitor:alerts-written=pause({marker})")
        failpoints.failpoint("create:renamed")  # not set: returns
        failpoints.failpoint("monitor:alerts-written")
        assert marker.read_text() == str(os.getpid())
    finally:
        failpoints.configure("")
    failpoints.failpoint("restore:staged")  # cleared again


def test_crash_kills_the_process_with_sigkill() -> None:
    code = "from riskcli.failpoints import failpoint; failpoint('create:renamed'); print('alive')"
    env = {**os.environ, failpoints.ENV: "create:renamed=crash"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)
    assert done.returncode == -9
    assert done.stdout == b""
