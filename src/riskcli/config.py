"""Settings and their sources, resolved lazily (never at import time).

Defaults live in code, in each service's own pydantic model for its section. A TOML file
overrides them: `--config`, `RISKCLI_CONFIG`, else `riskcli.toml` beside the store.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any

from riskcli.domain.errors import InputError

DEFAULT_DB = "riskcli.db"


def db_path(option: Path | None) -> Path:
    if option is not None:
        return option
    return Path(os.environ.get("RISKCLI_DB") or DEFAULT_DB)


def user_name(option: str | None) -> str:
    if option:
        return option
    env = os.environ.get("RISKCLI_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "admin"


def config_path(option: Path | None, store: Path) -> Path | None:
    if option is not None:
        return option
    env = os.environ.get("RISKCLI_CONFIG")
    if env:
        return Path(env)
    beside = store.with_name("riskcli.toml")
    return beside if beside.exists() else None


def load_config(option: Path | None, store: Path) -> dict[str, Any]:
    """The TOML settings as a dict (empty when there is no file)."""
    path = config_path(option, store)
    if path is None:
        return {}
    if not path.exists():
        raise InputError(f"config file {path} does not exist")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read config file {path}: {exc.strerror}") from None


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"config section [{name}] must be a table")
    return value
