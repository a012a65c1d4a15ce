"""Emergency drills and training: playbooks, drill records, the training record, staleness.

A playbook is a TOML file (`examples/drills/*.toml`, shipped with riskcli; a company points
`[drills] playbooks` at its own folder of edited copies). Each step has a title, an explanation
and, where one command does it, the command, with `{db}` standing for the sandbox store::

    scenario = "restore"
    title = "Restore drill"
    summary = "..."
    [[steps]]
    title = "Take a backup of the sandbox"
    command = "riskcli --db {db} backup create"
    explain = "..."

Unknown keys are refused, so a misspelt key never silently drops a step. A drill runs on a
sandbox; its record (who, when, scenario, each step's time and note, the findings) is kept in
the store the drill was started from, which is what `doctor` reads to warn about scenarios not
drilled for too long.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskcli.config import read_toml
from riskcli.domain.errors import InputError
from riskcli.storage.store import Store

#: the scenarios `doctor` watches (the tutorial is training, not a drill)
SCENARIOS: tuple[str, ...] = ("data-leak", "key-compromise", "major-default", "industry-shock",
                              "restore")  # fmt: skip
TUTORIAL = "tutorial"
PACKAGED = Path(__file__).resolve().parent.parent / "playbooks"


class DrillsConfig(BaseModel):
    """`[drills]` of the config."""

    model_config = ConfigDict(extra="forbid")

    #: folder of the company's own playbooks (TOML); default: the ones shipped with riskcli
    playbooks: str | None = None
    #: a scenario not drilled for this many months makes `doctor` warn
    stale_months: int = Field(12, ge=1)
    #: per-scenario periods; a restore is cheap and the most likely to be needed: 3 months
    stale_months_by_scenario: dict[str, int] = Field(default_factory=lambda: {"restore": 3})


def drills_config(config: dict[str, Any] | None) -> DrillsConfig:
    section = (config or {}).get("drills", {})
    if not isinstance(section, dict):
        raise InputError("config section [drills] must be a table")
    try:
        return DrillsConfig.model_validate(section)
    except ValidationError as exc:
        raise InputError(f"config section [drills] is invalid: {_first(exc)}") from None


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    command: str = ""
    #: the exit code that means the step worked (a check that the old key opens nothing: 4)
    expect_exit: int = Field(0, ge=0, le=255)
    explain: str = ""


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    summary: str = ""
    steps: list[Step] = Field(min_length=1)

    def commands(self, db: Path) -> list[str]:
        """Each step's command with `{db}` and `{sandbox}` filled in (shell-quoted)."""
        return [
            s.command.replace("{db}", shlex.quote(str(db))).replace(
                "{sandbox}", shlex.quote(str(db.parent))
            )
            for s in self.steps
        ]


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    return f"{where}: {err['msg']}" if where else err["msg"]


def playbook_folder(cfg: DrillsConfig, store_path: Path | None = None) -> Path:
    if cfg.playbooks:
        folder = Path(cfg.playbooks).expanduser()
        if not folder.is_absolute() and store_path is not None:
            folder = store_path.parent / folder
        return folder
    return PACKAGED


def available(cfg: DrillsConfig, store_path: Path | None = None) -> list[str]:
    folder = playbook_folder(cfg, store_path)
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_playbook(name: str, cfg: DrillsConfig, store_path: Path | None = None) -> Playbook:
    """A scenario by name (from the playbook folder) or a path to a TOML file."""
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
    else:
        path = playbook_folder(cfg, store_path) / f"{name}.toml"
        if not path.exists():
            known = ", ".join(available(cfg, store_path)) or "none"
            raise InputError(f"unknown scenario {name!r}; playbooks: {known}")
    return read_playbook(path)


def read_playbook(path: Path) -> Playbook:
    data = read_toml(path, "playbook")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"playbook {path.name}: {_first(exc)}") from None


# ---- records ---------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Started:
    drill_id: int
    playbook: Playbook
    commands: list[str]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "step": i,
                "title": s.title,
                "command": c or "(by hand)",
                "expect_exit": s.expect_exit,
                "explain": s.explain,
            }
            for i, (s, c) in enumerate(zip(self.playbook.steps, self.commands, strict=True), 1)
        ]


def start(store: Store, playbook: Playbook, sandbox: Path, sandbox_store_id: str) -> Started:
    """Open a drill on the sandbox store `sandbox` and record its steps."""
    sandbox = sandbox.resolve()
    commands = playbook.commands(sandbox)
    with store.transaction():
        cur = store.execute(
            "INSERT INTO drills(scenario, title, user, sandbox, sandbox_store_id, playbook, "
            "started_at) VALUES (?,?,?,?,?,?,?)",
            (
                playbook.scenario,
                playbook.title,
                store.user,
                str(sandbox.parent),
                sandbox_store_id,
                playbook.model_dump_json(),
                _iso(_now()),
            ),
        )
        drill_id = int(cur.lastrowid)
        store.executemany(
            "INSERT INTO drill_steps(drill_id, n, title, command) VALUES (?,?,?,?)",
            [(drill_id, i, s.title, c) for i, (s, c) in enumerate(zip(playbook.steps, commands,
                                                                        strict=True), 1)],
        )  # fmt: skip
    return Started(drill_id, playbook, commands)


def _open_drill(store: Store, drill_id: int | None) -> dict[str, Any]:
    if drill_id is not None:
        rows = store.query("SELECT * FROM drills WHERE id = ?", (drill_id,))
        if not rows:
            raise InputError(f"no drill {drill_id}")
        row = rows[0]
        if row["user"] != store.user:
            raise InputError(f"drill {drill_id} is {row['user']}'s, not yours")
        if row["finished_at"]:
            raise InputError(f"drill {drill_id} is already finished")
        return row
    rows = store.query(
        "SELECT * FROM drills WHERE user = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
        (store.user,),
    )
    if not rows:
        raise InputError("you have no open drill (start one with `riskcli drill start SCENARIO`)")
    return rows[0]


def step_done(
    store: Store, n: int, *, note: str | None = None, drill_id: int | None = None
) -> dict[str, Any]:
    """Mark step `n` of the user's open drill done; its minutes run from the previous mark."""
    drill = _open_drill(store, drill_id)
    steps = store.query("SELECT * FROM drill_steps WHERE drill_id = ? ORDER BY n", (drill["id"],))
    if not 1 <= n <= len(steps):
        raise InputError(f"drill {drill['id']} has steps 1 to {len(steps)}, not {n}")
    if steps[n - 1]["done_at"]:
        raise InputError(f"step {n} of drill {drill['id']} is already done")
    now = _now()
    marks = [str(s["done_at"]) for s in steps if s["done_at"]] + [str(drill["started_at"])]
    since = max(datetime.fromisoformat(m) for m in marks)
    minutes = round(max((now - since).total_seconds(), 0) / 60, 1)
    with store.transaction():
        store.execute(
            "UPDATE drill_steps SET done_at = ?, minutes = ?, note = ? "
            "WHERE drill_id = ? AND n = ?",
            (_iso(now), minutes, note, drill["id"], n),
        )
    done = sum(1 for s in steps if s["done_at"]) + 1
    return {
        "drill": drill["id"],
        "step": n,
        "title": steps[n - 1]["title"],
        "minutes": minutes,
        "steps_done": f"{done}/{len(steps)}",
        "note": note or "",
    }


def finish(store: Store, *, findings: str | None = None, drill_id: int | None = None) -> int:
    drill = _open_drill(store, drill_id)
    with store.transaction():
        store.execute(
            "UPDATE drills SET finished_at = ?, findings = ? WHERE id = ?",
            (_iso(_now()), findings, drill["id"]),
        )
    return int(drill["id"])


_LIST_SQL = """
SELECT d.id, d.scenario, d.user, d.started_at, d.finished_at,
       sum(s.done_at IS NOT NULL) AS steps_done, count(s.n) AS steps,
       round(coalesce(sum(s.minutes), 0), 1) AS minutes, d.sandbox,
       coalesce(d.findings, '') AS findings
FROM drills d LEFT JOIN drill_steps s ON s.drill_id = d.id
"""


def list_drills(
    store: Store, *, since: datetime | None = None, scenario: str | None = None
) -> list[dict[str, Any]]:
    where, params = [], []
    if since is not None:
        where.append("d.started_at >= ?")
        params.append(_iso(since))
    if scenario:
        where.append("d.scenario = ?")
        params.append(scenario)
    sql = _LIST_SQL + (" WHERE " + " AND ".join(where) if where else "")
    rows = store.query(sql + " GROUP BY d.id ORDER BY d.id", params)
    for row in rows:
        row["status"] = "finished" if row["finished_at"] else "open"
        row["finished_at"] = row["finished_at"] or ""
    return rows


def show(store: Store, drill_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = [r for r in list_drills(store) if r["id"] == drill_id]
    if not rows:
        raise InputError(f"no drill {drill_id}")
    steps = store.query(
        "SELECT n AS step, title, command, coalesce(done_at, '') AS done_at, minutes, "
        "coalesce(note, '') AS note FROM drill_steps WHERE drill_id = ? ORDER BY n",
        (drill_id,),
    )
    return {"drill": rows, "steps": steps}


def training_record(store: Store, since: datetime | None) -> list[dict[str, Any]]:
    """One row per drill since `since`: who, when, scenario, steps done, minutes per step."""
    rows = list_drills(store, since=since)
    minutes: dict[int, list[str]] = {}
    for s in store.query("SELECT drill_id, n, minutes FROM drill_steps WHERE done_at IS NOT NULL"
                         " ORDER BY drill_id, n"):  # fmt: skip
        minutes.setdefault(int(s["drill_id"]), []).append(f"{s['n']}: {s['minutes']}")
    out = []
    for r in rows:
        out.append(
            {
                "drill": r["id"],
                "scenario": r["scenario"],
                "user": r["user"],
                "started_at": r["started_at"],
                "finished_at": r["finished_at"],
                "status": r["status"],
                "steps_done": f"{r['steps_done'] or 0}/{r['steps']}",
                "minutes": r["minutes"],
                "minutes_per_step": "; ".join(minutes.get(int(r["id"]), [])),
                "findings": r["findings"],
            }
        )
    return out


def stale(store: Store, cfg: DrillsConfig, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each watched scenario with its last finished drill and whether that is too old."""
    now = now or _now()
    last = {
        str(r["scenario"]): str(r["last"])
        for r in store.query(
            "SELECT scenario, max(finished_at) AS last FROM drills "
            "WHERE finished_at IS NOT NULL GROUP BY scenario"
        )
    }
    out = []
    for scenario in SCENARIOS:
        months = cfg.stale_months_by_scenario.get(scenario, cfg.stale_months)
        when = last.get(scenario)
        age_days = None if when is None else (now - datetime.fromisoformat(when)).days
        out.append(
            {
                "scenario": scenario,
                "last": when or "",
                "max_months": months,
                "stale": age_days is None or age_days > months * 365.25 / 12,
            }
        )
    return out
