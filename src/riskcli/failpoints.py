"""Failpoints: named places in riskcli where a test can crash or pause a real process.

A test facility, as etcd's gofail and TiKV's fail-rs are: production code calls
`failpoint("restore:old-keys-moved")` between two steps, and a test starts riskcli with

    RISKCLI_FAILPOINTS="restore:old-keys-moved=crash"
    RISKCLI_FAILPOINTS="monitor:alerts-written=pause(/tmp/marker)"

(several points separated by `;`). `crash` kills the process with SIGKILL at that point, as a
power cut or `kill -9` would; `pause(FILE)` writes the process id to FILE and sleeps for a
minute, so that the test can act while the process holds its locks and transactions. The
variable is read once, when this module is imported; unset, a failpoint costs one dictionary
lookup. Every point is named in `POINTS`, and a spec naming another point is refused.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable

ENV = "RISKCLI_FAILPOINTS"
PAUSE_SECONDS = 60.0

#: every failpoint, with where it sits
POINTS: dict[str, str] = {
    "create:snapshot-written": "backup create: the snapshot is on disk, no container yet",
    "create:container-written": "backup create: the container is written under its temp name",
    "create:renamed": "backup create: the file has its final name, not yet recorded",
    "prune:removed-one": "backup prune: one backup file deleted, more to go",
    "restore:staged": "restore: the staged store and keys are complete, the swap not started",
    "restore:journal-written": "restore: the swap journal is on disk (the commit point)",
    "restore:old-db-moved": "restore: the old store is moved aside",
    "restore:old-keys-moved": "restore: the old keys file is moved aside",
    "restore:new-keys-in": "restore: the new keys file is in place, the new store not yet",
    "restore:installed": "restore: both files are in place, the journal removed",
    "monitor:alerts-written": "monitor run: alerts written inside the run's open transaction",
}

Action = Callable[[], None]
_SPEC = re.compile(r"(?P<action>crash|pause)(?:\((?P<arg>[^()]*)\))?")


def _crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _pause(marker: str) -> Action:
    def pause() -> None:
        if marker:
            with open(marker, "w", encoding="utf-8") as fh:
                fh.write(str(os.getpid()))
        time.sleep(PAUSE_SECONDS)

    return pause


def parse(spec: str) -> dict[str, Action]:
    """`name=crash;name=pause(FILE)` -> {name: action}; a malformed spec raises ValueError."""
    active: dict[str, Action] = {}
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        name, sep, text = item.partition("=")
        match = _SPEC.fullmatch(text.strip())
        if not sep or match is None:
            raise ValueError(f"{ENV}: cannot read {item!r} (use NAME=crash or NAME=pause(FILE))")
        if name.strip() not in POINTS:
            raise ValueError(f"{ENV}: no failpoint named {name.strip()!r}")
        if match["action"] == "crash":
            active[name.strip()] = _crash
        else:
            active[name.strip()] = _pause(match["arg"] or "")
    return active


_ACTIVE: dict[str, Action] = parse(os.environ.get(ENV, ""))


def configure(spec: str) -> None:
    """Replace the active failpoints in this process (for tests that run riskcli in-process)."""
    global _ACTIVE
    _ACTIVE = parse(spec)


def failpoint(name: str) -> None:
    """Run the action set for `name`, if any; otherwise nothing."""
    action = _ACTIVE.get(name)
    if action is not None:
        action()
