"""`riskcli doctor`: a security and resilience self-check, one pass/warn/fail finding per line.

Each finding says how to fix it. Thresholds live in `[doctor]` of the config.
"""

from __future__ import annotations

import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riskcli.domain.errors import InputError
from riskcli.domain.permissions import Role
from riskcli.services import audit as audit_service
from riskcli.storage.keyslots import KeyFile, keys_path, pending_keys_path
from riskcli.storage.store import Store

PASS, WARN, FAIL = "pass", "warn", "fail"


class DoctorConfig(BaseModel):
    """`[doctor]` thresholds."""

    model_config = ConfigDict(extra="forbid")

    #: a user with no audit event for this many days is flagged
    inactive_days: int = Field(90, ge=1)
    #: the newest backup may be at most this old
    backup_max_age_days: int = Field(7, ge=1)
    #: the last restore drill may be at most this old
    drill_max_age_days: int = Field(90, ge=1)
    #: Argon2id memory (KiB) and passes below which a slot is flagged (RFC 9106 option 2)
    kdf_memory_kib: int = Field(64 * 1024, ge=8)
    kdf_iterations: int = Field(3, ge=1)
    #: below these a slot fails (OWASP's minimum for Argon2id: 19 MiB, 2 passes)
    kdf_min_memory_kib: int = Field(19 * 1024, ge=8)
    kdf_min_iterations: int = Field(2, ge=1)


def doctor_config(config: dict[str, Any] | None) -> DoctorConfig:
    section = (config or {}).get("doctor", {})
    if not isinstance(section, dict):
        raise InputError("config section [doctor] must be a table")
    try:
        return DoctorConfig.model_validate(section)
    except ValueError as exc:
        raise InputError(f"config section [doctor] is invalid: {exc}") from None


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    detail: str
    fix: str = ""


def _parse_time(text: Any) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age_days(moment: datetime, now: datetime) -> int:
    return max((now - moment).days, 0)


# ---- the checks -------------------------------------------------------------------------------
def check_permissions(store: Store, anchor: Path) -> list[Finding]:
    out: list[Finding] = []
    candidates = [
        ("store file", store.path),
        ("keys file", keys_path(store.path)),
        ("WAL file", Path(f"{store.path}-wal")),
        ("shared-memory file", Path(f"{store.path}-shm")),
    ]
    for label, path in candidates:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            if label in ("store file", "keys file"):
                out.append(Finding(f"{label} permissions", FAIL, f"{path} is missing"))
            continue
        if mode & 0o077:
            out.append(
                Finding(
                    f"{label} permissions",
                    FAIL,
                    f"{path} has mode {mode:04o}: others on this machine can read it",
                    f"chmod 600 {path}",
                )
            )
        else:
            out.append(Finding(f"{label} permissions", PASS, f"{path} has mode {mode:04o}"))
    return out


def check_pending_rotation(store: Store) -> list[Finding]:
    pending = pending_keys_path(store.path)
    if pending.exists():
        return [
            Finding(
                "key rotation",
                FAIL,
                f"{pending} is left over from an interrupted key rotation",
                "run `riskcli key rotate` again; it replaces the leftover file",
            )
        ]
    return [Finding("key rotation", PASS, "no interrupted key rotation")]


def check_kdf(keyfile: KeyFile, cfg: DoctorConfig) -> list[Finding]:
    out: list[Finding] = []
    for slot in keyfile.slots:
        name = f"KDF cost of {slot.user}"
        k = slot.kdf
        cost = f"argon2id m={k.memory_kib} KiB t={k.iterations} p={k.lanes}"
        fix = f"run `riskcli user passwd {slot.user}` to re-wrap the slot at today's cost"
        if slot.kind == "token":
            out.append(Finding(name, PASS, f"service token (256 random bits); {cost}"))
        elif k.memory_kib < cfg.kdf_min_memory_kib or k.iterations < cfg.kdf_min_iterations:
            out.append(Finding(name, FAIL, f"{cost} is cheap to brute-force", fix))
        elif k.memory_kib < cfg.kdf_memory_kib or k.iterations < cfg.kdf_iterations:
            out.append(Finding(name, WARN, f"{cost} is below the recommended cost", fix))
        else:
            out.append(Finding(name, PASS, cost))
        if not slot.sealed_slot:
            out.append(
                Finding(
                    f"slot format of {slot.user}",
                    WARN,
                    "an old slot that a master-key rotation cannot re-seal",
                    f"run `riskcli user passwd {slot.user}`",
                )
            )
    return out


def check_admins(keyfile: KeyFile) -> list[Finding]:
    admins = [s.user for s in keyfile.slots if s.role == Role.ADMIN.value]
    if not admins:
        return [
            Finding(
                "admins",
                FAIL,
                "no admin: nobody can manage users or rotate the key",
                "restore the keys file from a backup",
            )
        ]
    if len(admins) == 1:
        return [
            Finding(
                "admins",
                WARN,
                f"one admin ({admins[0]}): if that passphrase is lost, so is user management",
                "add a second admin: `riskcli user add NAME --role admin`",
            )
        ]
    return [Finding("admins", PASS, f"{len(admins)} admins: {', '.join(admins)}")]


def check_inactive(
    store: Store, keyfile: KeyFile, cfg: DoctorConfig, now: datetime
) -> list[Finding]:
    seen = audit_service.last_activity(store)
    limit = now - timedelta(days=cfg.inactive_days)
    stale: list[str] = []
    for slot in keyfile.slots:
        last = _parse_time(seen.get(slot.user)) or _parse_time(slot.created)
        if last is not None and last < limit:
            stale.append(f"{slot.user} ({_age_days(last, now)} days)")
    if stale:
        return [
            Finding(
                "inactive users",
                WARN,
                f"no activity for {cfg.inactive_days}+ days: {', '.join(stale)}",
                "remove users who left: `riskcli user remove NAME` (rotates the key)",
            )
        ]
    return [Finding("inactive users", PASS, f"every user active within {cfg.inactive_days} days")]


def backup_times(store: Store) -> tuple[datetime | None, datetime | None, bool]:
    """(newest successful backup, newest successful drill, whether backups are recorded)."""
    if not store.has_table("backup_events"):
        return None, None, False

    def newest(kind: str) -> datetime | None:
        return _parse_time(
            store.scalar("SELECT max(at) FROM backup_events WHERE kind = ? AND ok = 1", (kind,))
        )

    return newest("create"), newest("drill"), True


def check_backups(store: Store, cfg: DoctorConfig, now: datetime) -> list[Finding]:
    backup, drill, recorded = backup_times(store)
    out: list[Finding] = []
    if backup is None:
        detail = "no backup recorded" if recorded else "this store records no backups"
        out.append(Finding("newest backup", FAIL, detail, "take one: `riskcli backup create`"))
    else:
        age = _age_days(backup, now)
        status = PASS if age <= cfg.backup_max_age_days else FAIL
        out.append(
            Finding(
                "newest backup",
                status,
                f"{age} days old (limit {cfg.backup_max_age_days})",
                "" if status == PASS else "take one: `riskcli backup create` (and schedule it)",
            )
        )
    if drill is None:
        out.append(
            Finding(
                "last restore drill",
                WARN,
                "no restore drill recorded",
                "prove a backup restores: `riskcli backup drill`",
            )
        )
    else:
        age = _age_days(drill, now)
        status = PASS if age <= cfg.drill_max_age_days else WARN
        out.append(
            Finding(
                "last restore drill",
                status,
                f"{age} days ago (limit {cfg.drill_max_age_days})",
                "" if status == PASS else "run `riskcli backup drill`",
            )
        )
    return out


def check_drills(store: Store, config: dict[str, Any] | None, now: datetime) -> list[Finding]:
    """One line per emergency-drill scenario: warn when not drilled within its period
    (`[drills] stale_months`, 12; restore 3)."""
    from riskcli.services import drills

    if not store.has_table("drills"):
        return []
    out: list[Finding] = []
    for row in drills.stale(store, drills.drills_config(config), now):
        name, months = row["scenario"], row["max_months"]
        if row["stale"]:
            when = f"last finished {row['last'][:10]}" if row["last"] else "never drilled"
            detail = f"{when} (limit {months} months)"
            fix = f"run it on a sandbox: `riskcli drill start {name} --sandbox DIR`"
            out.append(Finding(f"drill {name}", WARN, detail, fix))
        else:
            detail = f"last finished {row['last'][:10]} (limit {months} months)"
            out.append(Finding(f"drill {name}", PASS, detail))
    return out


def check_audit(store: Store, anchor: Path) -> list[Finding]:
    result = audit_service.verify(store, anchor)
    out: list[Finding] = []
    if result.ok:
        detail = f"{result.events} events, anchored up to event {result.anchored_seq}"
        if result.warnings:
            out.append(
                Finding(
                    "audit chain",
                    WARN,
                    f"{detail}; {'; '.join(result.warnings)}",
                    "see `riskcli audit verify`",
                )
            )
        else:
            out.append(Finding("audit chain", PASS, detail))
    else:
        first = result.first_bad
        out.append(
            Finding(
                "audit chain",
                FAIL,
                first.message if first else "verification failed",
                "investigate with `riskcli audit verify` and `riskcli audit log`; "
                "compare with a backup",
            )
        )
    if anchor.parent.resolve() == store.path.parent.resolve():
        out.append(
            Finding(
                "anchor location",
                WARN,
                f"{anchor} sits beside the store: a rollback of the folder rolls it back too",
                "set `anchor = PATH` in the config's audit section, or RISKCLI_ANCHOR",
            )
        )
    else:
        out.append(Finding("anchor location", PASS, f"{anchor} is outside the store's folder"))
    return out


def check_secure_delete(store: Store) -> list[Finding]:
    value = store.scalar("PRAGMA secure_delete")
    if int(value or 0) == 1:
        return [Finding("secure_delete", PASS, "deleted content is overwritten with zeros")]
    return [
        Finding(
            "secure_delete",
            FAIL,
            "off: deleted personal data may linger in free pages",
            "upgrade riskcli; the store turns it on for every connection",
        )
    ]


def check_integrity(store: Store) -> list[Finding]:
    bad_pages = store.execute("PRAGMA cipher_integrity_check").fetchall()
    quick = [str(r[0]) for r in store.execute("PRAGMA quick_check").fetchall()]
    fix = "restore the newest good backup: `riskcli restore FILE`"
    out: list[Finding] = []
    if bad_pages:
        out.append(Finding("page authentication", FAIL, f"{len(bad_pages)} page(s) fail", fix))
    else:
        out.append(Finding("page authentication", PASS, "every page's HMAC checks"))
    if quick != ["ok"]:
        out.append(Finding("integrity check", FAIL, f"{quick[0]}", fix))
    else:
        out.append(Finding("integrity check", PASS, "ok"))
    return out


def run(
    store: Store, anchor: Path, config: dict[str, Any] | None = None, *, now: datetime | None = None
) -> list[Finding]:
    cfg = doctor_config(config)
    now = now or datetime.now(UTC)
    keyfile = KeyFile.load(keys_path(store.path))
    keyfile.check(store.master_key)
    findings: list[Finding] = []
    findings += check_permissions(store, anchor)
    findings += check_pending_rotation(store)
    findings += check_kdf(keyfile, cfg)
    findings += check_admins(keyfile)
    findings += check_inactive(store, keyfile, cfg, now)
    findings += check_backups(store, cfg, now)
    findings += check_drills(store, config, now)
    findings += check_audit(store, anchor)
    findings += check_secure_delete(store)
    findings += check_integrity(store)
    return findings


def rows(findings: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) for f in findings]


def failed(findings: list[Finding]) -> int:
    return sum(1 for f in findings if f.status == FAIL)
