"""Imports that wait for their first use.

A command module imports the services it calls through these, so `riskcli COMMAND --help` and
the lookups that never call them load no pandas, numpy, pyarrow, scikit-learn or openpyxl.
Under `TYPE_CHECKING` the modules import the real names, so mypy checks every call:

    if TYPE_CHECKING:
        from riskcli.services.tiering import service as tiering
    else:
        tiering = lazy.module("riskcli.services.tiering.service")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _Module:
    def __init__(self, name: str) -> None:
        self._name = name
        self._loaded: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._loaded is None:
            self._loaded = importlib.import_module(self._name)
        return getattr(self._loaded, attr)


class _Function:
    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self._module), self._name)(*args, **kwargs)


def module(name: str) -> Any:
    """A module imported when one of its attributes is first read."""
    return _Module(name)


def function(module: str, name: str) -> Any:
    """A function of `module`, imported when it is first called."""
    return _Function(module, name)
