"""docs/configuration.md cannot drift: its TOML blocks are the defaults the code uses, and a
store configured with all of them works."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from riskcli.services.backup.config import BackupConfig
from riskcli.services.book import load_credit_config
from riskcli.services.doctor import doctor_config
from riskcli.services.limits.config import approval_config, book_config, limits_config
from riskcli.services.monitoring.config import load_monitoring_config
from riskcli.services.scoring.config import load_scoring_config
from riskcli.services.tiering.config import load_tiering_config

PAGE = Path(__file__).parents[2] / "docs" / "configuration.md"
_TOML = re.compile(r"^```toml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def documented() -> dict[str, Any]:
    """Every ```toml block of the page, as one configuration."""
    text = "\n".join(m.group(1) for m in _TOML.finditer(PAGE.read_text(encoding="utf-8")))
    return tomllib.loads(text)


LOADERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tiering": load_tiering_config,
    "scoring": load_scoring_config,
    "monitoring": load_monitoring_config,
    "backup": lambda cfg: BackupConfig.model_validate(cfg.get("backup", {})),
    "doctor": doctor_config,
    "credit": load_credit_config,
    "book": book_config,
}


def test_the_limits_and_approval_tables_are_the_defaults() -> None:
    credit = {"credit": documented()["credit"]}
    assert limits_config(credit) == limits_config({})
    assert approval_config(credit) == approval_config({})


def test_the_page_documents_every_section() -> None:
    assert set(LOADERS) | {"audit"} == set(documented())


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_the_documented_values_are_the_defaults(name: str) -> None:
    load = LOADERS[name]
    assert load({name: documented()[name]}) == load({})


def test_a_store_runs_with_the_documented_file(store_env: Path, cli: Callable[..., Any]) -> None:
    examples = Path(__file__).parents[2] / "examples"
    (store_env.parent / "riskcli.toml").write_text(
        "\n".join(m.group(1) for m in _TOML.finditer(PAGE.read_text(encoding="utf-8"))),
        encoding="utf-8",
    )
    for kind in ("customers", "transactions", "receivables", "credit-reports"):
        result = cli("import", kind, str(examples / f"{kind.replace('-', '_')}.csv"))
        assert result.exit_code == 0, result.output
    for args in (
        ("tier", "run", "--as-of", "2026-09-30"),
        ("score", "expert"),
        ("score", "run", "--as-of", "2026-09-30"),
        ("monitor", "run", "--as-of", "2026-09-30"),
        ("backup", "create"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
