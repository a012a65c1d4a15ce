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
#: seconds a writer waits for the write lock (riskcli.storage.store.DEFAULT_WAIT_S)
DEFAULT_WAIT_S = 60.0


def db_path(option: Path | None) -> Path:
    if option is not None:
        return option
    return Path(os.environ.get("RISKCLI_DB") or DEFAULT_DB)


def wait_seconds(option: float | None) -> float:
    """How long a writer waits for the write lock: `--wait`, RISKCLI_WAIT, else 60 s."""
    if option is not None:
        value: float = option
    else:
        env = os.environ.get("RISKCLI_WAIT")
        if not env:
            return DEFAULT_WAIT_S
        try:
            value = float(env)
        except ValueError:
            raise InputError(f"RISKCLI_WAIT must be a number of seconds, not {env!r}") from None
    if not 0 <= value < 1e7:
        raise InputError(f"--wait must be between 0 and 10,000,000 seconds, not {value:g}")
    return value


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
    return read_toml(path, "config file")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; a missing, unreadable or malformed file is a one-line error
    naming it as `what` (e.g. "config file")."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"config section [{name}] must be a table")
    return value
