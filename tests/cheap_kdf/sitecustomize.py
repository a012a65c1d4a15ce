"""Test-only: riskcli processes started by the tests write cheap Argon2id keyslots.

The test fixtures (tests/conftest.py) put this folder first on PYTHONPATH, so every Python
process a test starts runs this file at interpreter start (see `site`); in the test process
itself the fixture patches `KdfParams.default` with `cheap` below. The shipped program has no
such switch: no setting or environment variable lowers the key-derivation cost of a slot.

The patch is applied when `riskcli.storage.keyslots` is first imported, not here, so a process
that never touches keyslots (`riskcli --version`, `python -c ...`) starts as fast as without it.
"""

from __future__ import annotations

import sys
from typing import Any

#: Argon2id m=1 MiB, t=1, p=1: fast enough for hundreds of test stores
CHEAP = {"iterations": 1, "memory_kib": 1024, "lanes": 1}
MODULE = "riskcli.storage.keyslots"


def cheap(cls: Any) -> Any:
    """A stand-in for `KdfParams.default` (a classmethod)."""
    return cls(**CHEAP)


class _PatchOnImport:
    """A meta-path finder that lets the normal import find MODULE, then patches it once run."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != MODULE:
            return None
        sys.meta_path.remove(self)
        from importlib.util import find_spec

        spec = find_spec(name)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                run(module)
                module.KdfParams.default = classmethod(cheap)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if __name__ == "sitecustomize":
    sys.meta_path.insert(0, _PatchOnImport())
