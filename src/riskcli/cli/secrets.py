"""Where a passphrase comes from: first found wins, never a command-line value.

1. `--passphrase-file` / `RISKCLI_PASSPHRASE_FILE` (also a service user's token file)
2. `RISKCLI_PASSPHRASE_COMMAND` (its stdout, e.g. `pass show riskcli`)
3. `RISKCLI_PASSPHRASE`
4. a hidden prompt, when stdin is a terminal
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

from riskcli.domain.errors import AccessError, InputError

NO_SOURCE = (
    "no passphrase: set RISKCLI_PASSPHRASE_FILE, RISKCLI_PASSPHRASE_COMMAND or "
    "RISKCLI_PASSPHRASE, use --passphrase-file, or run on a terminal"
)


def _strip_newline(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def read_secret_file(path: Path) -> bytes:
    try:
        data = _strip_newline(path.read_bytes())
    except FileNotFoundError:
        raise AccessError(f"passphrase file {path} does not exist") from None
    except OSError as exc:
        raise AccessError(f"cannot read passphrase file {path}: {exc.strerror}") from None
    if not data:
        raise AccessError(f"passphrase file {path} is empty")
    return data


def passphrase(file_option: Path | None, user: str) -> bytes:
    """The passphrase for `user` from the first source that has one."""
    file_env = os.environ.get("RISKCLI_PASSPHRASE_FILE")
    if file_option is not None or file_env:
        return read_secret_file(file_option or Path(str(file_env)))
    command = os.environ.get("RISKCLI_PASSPHRASE_COMMAND")
    if command:
        try:
            done = subprocess.run(command, shell=True, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise AccessError("RISKCLI_PASSPHRASE_COMMAND did not finish within 60 s") from None
        if done.returncode != 0:
            raise AccessError(f"RISKCLI_PASSPHRASE_COMMAND failed with exit code {done.returncode}")
        data = _strip_newline(done.stdout)
        if not data:
            raise AccessError("RISKCLI_PASSPHRASE_COMMAND printed nothing")
        return data
    env = os.environ.get("RISKCLI_PASSPHRASE")
    if env:
        return env.encode("utf-8")
    if sys.stdin.isatty():
        value = getpass.getpass(f"Passphrase for {user}: ")
        if not value:
            raise AccessError("empty passphrase")
        return value.encode("utf-8")
    raise AccessError(NO_SOURCE)


def new_passphrase(file_option: Path | None, user: str, *, min_length: int = 12) -> bytes:
    """A new passphrase: from a file, from the usual sources, or typed twice on a terminal."""
    if file_option is not None:
        secret = read_secret_file(file_option)
    elif sys.stdin.isatty() and not (
        os.environ.get("RISKCLI_PASSPHRASE_FILE")
        or os.environ.get("RISKCLI_PASSPHRASE_COMMAND")
        or os.environ.get("RISKCLI_PASSPHRASE")
    ):
        first = getpass.getpass(f"New passphrase for {user}: ")
        second = getpass.getpass("Repeat it: ")
        if first != second:
            raise InputError("the two passphrases differ")
        secret = first.encode("utf-8")
    else:
        secret = passphrase(None, user)
    if len(secret) < min_length:
        raise InputError(f"passphrase too short: use at least {min_length} characters")
    return secret
