"""Settings files, playbooks and stress scenarios are read by one TOML reader with one-line
errors naming the kind of file."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskcli.config import read_toml
from riskcli.domain.errors import InputError
from riskcli.services.drills import read_playbook
from riskcli.services.reports.stress import read_scenario


def test_a_good_file_reads_as_a_dict(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text('name = "recession"\n[a]\nb = 1\n', encoding="utf-8")
    assert read_toml(path, "scenario file") == {"name": "recession", "a": {"b": 1}}


def test_each_fault_is_one_line_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n", encoding="utf-8")
    cases = {
        tmp_path / "missing.toml": f"playbook {tmp_path / 'missing.toml'} does not exist",
        tmp_path: f"cannot read playbook {tmp_path}: Is a directory",
    }
    for path, message in cases.items():
        with pytest.raises(InputError) as caught:
            read_toml(path, "playbook")
        assert str(caught.value) == message
    with pytest.raises(InputError) as caught:
        read_toml(broken, "playbook")
    assert str(caught.value).startswith(f"playbook {broken} is not valid TOML: ")
    assert "\n" not in str(caught.value)


def test_playbooks_and_scenarios_read_through_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cannot read playbook .*: Is a directory$"):
        read_playbook(tmp_path)
    with pytest.raises(InputError, match=r"^cannot read scenario file .*: Is a directory$"):
        read_scenario(tmp_path)
    with pytest.raises(InputError, match=r"^scenario file .*nothing\.toml does not exist$"):
        read_scenario(tmp_path / "nothing.toml")
