"""Customer-data import: reading, mapping, validation, writing and the report of each file.

Import from here; the readers and the validation (pyarrow, numpy) load when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskcli.services.importing.kinds import KINDS

_WHERE = {
    "Source": "readers",
    "resolve_source": "readers",
    "spool_stdin": "readers",
    "FileResult": "results",
    "ImportAborted": "results",
    "ImportResult": "results",
    "Problem": "results",
    "history": "results",
    "import_files": "service",
    "probable_duplicates": "service",
}

__all__ = ["KINDS", *_WHERE]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
