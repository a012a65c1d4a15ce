"""Test-only: riskcli processes started by the tests write cheap Argon2id keyslots.

The test fixtures (tests/conftest.py) put this folder first on PYTHONPATH, so every Python
process a test starts runs this file at interpreter start (see `site`); in the test process
itself the fixture patches `KdfParams.default` with `cheap` below. The shipped program has no
such switch: no setting or environment variable lowers the key-derivation cost of a slot.
"""

from __future__ import annotations

from typing import Any

#: Argon2id m=1 MiB, t=1, p=1: fast enough for hundreds of test stores
CHEAP = {"iterations": 1, "memory_kib": 1024, "lanes": 1}


def cheap(cls: Any) -> Any:
    """A stand-in for `KdfParams.default` (a classmethod)."""
    return cls(**CHEAP)


if __name__ == "sitecustomize":
    try:
        from riskcli.storage.keyslots import KdfParams
    except ImportError:  # a process that cannot see riskcli writes no keyslots
        pass
    else:
        KdfParams.default = classmethod(cheap)  # type: ignore[method-assign, assignment]
