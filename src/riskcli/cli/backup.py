"""`riskcli backup create|list|verify|prune|drill` and `riskcli restore`: parse, call, render.

Backup commands need the passphrase twice over (to open the store, and to unlock the backup's
keyslot of its time), so their `session()` keeps it (`keep_secret=True`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from riskcli.cli import output
from riskcli.cli.context import get_globals, session
from riskcli.cli.output import FormatOpt
from riskcli.cli.secrets import passphrase
from riskcli.config import load_config, section
from riskcli.domain.errors import InputError, IntegrityError, RiskError
from riskcli.services import audit as audit_service
from riskcli.services import backup as service
from riskcli.services.backup import agewrap, files
from riskcli.storage.store import Store

app = typer.Typer(
    help="Back the store up into verified, optionally age-encrypted files; list, verify, prune "
    "and drill them. Example: riskcli backup create --label nightly",
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path | None,
    typer.Option("--dir", help="Backup folder. Default: [backup] dir, else backups/ by the store."),
]
IdentityOpt = Annotated[
    Path | None,
    typer.Option(
        "--identity",
        "-i",
        help="age identity file (age-keygen output) to read age-encrypted backups. "
        "Default: [backup] identity.",
    ),
]


def _backup_config(config: dict[str, Any]) -> service.BackupConfig:
    try:
        return service.BackupConfig.model_validate(section(config, "backup"))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"config section [backup] is invalid: {problems}") from None


def _identities(option: Path | None, cfg: service.BackupConfig) -> list[Any] | None:
    path = option or (Path(cfg.identity).expanduser() if cfg.identity else None)
    return None if path is None else agewrap.load_identities(path)


@app.command("create")
def create(
    ctx: typer.Context,
    to: Annotated[Path | None, typer.Option("--to", help="Backup folder (as --dir).")] = None,
    recipient: Annotated[
        list[str] | None,
        typer.Option(
            "--recipient",
            "-r",
            help="age X25519 public key (age1...) to encrypt the file to; repeatable. "
            "Default: [backup] recipients.",
        ),
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="A note for the manifest.")] = None,
    folder: DirOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Take a consistent online snapshot and write one verified backup file.

    The file (snapshot + keys file + manifest) is written under a temporary name, synced, read
    back and only then renamed into place. With --recipient the whole file is age-encrypted, so
    a cron job needs only public keys. Example: riskcli backup create --label nightly
    """
    with session(ctx, "backup.create", keep_secret=True) as s:
        cfg = _backup_config(s.config)
        dest = cfg.folder(s.store.path, to or folder)
        recipients = recipient if recipient else cfg.recipients
        size = s.store.path.stat().st_size
        with output.progress(size * 2, "backup", unit="bytes") as tick:
            result = service.create_backup(
                s.store, s.secret, dest, recipients=recipients, label=label, progress=tick
            )
        s.audit_affected(file=result.path.name, size_bytes=result.size)
    output.info(f"Backup written and verified: {result.path}")
    if result.not_recorded:
        output.warn(f"{result.not_recorded} (the backup is not in the store's records)")
    output.render(result.as_row(), fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="Backup folder.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """List backup files, oldest first, with what their manifests and the store's records say.

    Example: riskcli backup list /srv/backups/riskcli
    """
    with session(ctx, "backup.read") as s:
        cfg = _backup_config(s.config)
        dest = cfg.folder(s.store.path, directory)
        rows = service.list_backups(dest, s.store)
    output.render(rows, fmt, empty_message=f"No backups in {dest}.")


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Backup file to verify.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every backup in the folder.")] = False,
    identity: IdentityOpt = None,
    folder: DirOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Read a backup back completely: checksums, keyslot, manifest HMAC, both integrity checks,
    page and row counts, and that it is a backup of this store. Exit 4 naming any damage.

    Example: riskcli backup verify --all
    """
    if (file is None) == (not all_):
        raise typer.BadParameter("give one backup FILE or --all")
    with session(ctx, "backup.read", keep_secret=True) as s:
        cfg = _backup_config(s.config)
        store = s.store
        identities = _identities(identity, cfg)
        if file is not None:
            paths = [file]
        else:
            paths = files.list_backup_files(cfg.folder(store.path, folder))
        rows: list[dict[str, Any]] = []
        failures: list[RiskError] = []
        for path in paths:
            try:
                with output.progress(
                    path.stat().st_size if path.exists() else 0, path.name, unit="bytes"
                ) as t:
                    report = service.verify_and_record(
                        store, path, s.secret, identities=identities, progress=t
                    )
                rows.append(report.as_row())
            except RiskError as exc:
                if not all_:
                    raise
                failures.append(exc)
                rows.append({"file": path.name, "ok": False, "error": str(exc)})
        keys = list(dict.fromkeys(k for row in rows for k in row))
        rows = [{k: row.get(k, "") for k in keys} for row in rows]
        s.audit_affected(verified=len(rows) - len(failures), failed=len(failures))
    output.render(rows, fmt, empty_message="No backups to verify.")
    if failures:
        integrity = [f for f in failures if isinstance(f, IntegrityError)]
        first = integrity[0] if integrity else failures[0]
        raise type(first)(
            f"{len(failures)} of {len(rows)} backups failed verification; first: {first}"
        )


@app.command("prune")
def prune(
    ctx: typer.Context,
    keep_last: Annotated[int | None, typer.Option("--keep-last", help="Keep the N newest.")] = None,
    keep_daily: Annotated[
        int | None, typer.Option("--keep-daily", help="Keep the newest of each of N days.")
    ] = None,
    keep_weekly: Annotated[
        int | None, typer.Option("--keep-weekly", help="Keep the newest of each of N weeks.")
    ] = None,
    keep_monthly: Annotated[
        int | None, typer.Option("--keep-monthly", help="Keep the newest of each of N months.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, delete nothing.")] = False,
    identity: IdentityOpt = None,
    folder: DirOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Delete backups a retention policy does not keep; print what is kept and removed, and why.

    An empty policy is refused; the newest verified backup is always kept. Defaults come from
    [backup] keep_*. Example: riskcli backup prune --keep-daily 7 --keep-weekly 4 --dry-run
    """
    with session(ctx, "backup.create", keep_secret=True) as s:
        cfg = _backup_config(s.config)
        cfg = cfg
        policy = service.PrunePolicy(
            keep_last=cfg.keep_last if keep_last is None else keep_last,
            keep_daily=cfg.keep_daily if keep_daily is None else keep_daily,
            keep_weekly=cfg.keep_weekly if keep_weekly is None else keep_weekly,
            keep_monthly=cfg.keep_monthly if keep_monthly is None else keep_monthly,
        )
        outcome = service.prune_backups(
            s.store,
            cfg.folder(s.store.path, folder),
            policy,
            s.secret,
            dry_run=dry_run,
            identities=_identities(identity, cfg),
        )
        s.audit_affected(removed=len(outcome.removed), dry_run=dry_run)
    output.render(outcome.rows(), fmt, empty_message="No backups to prune.")
    verb = "would remove" if dry_run else "removed"
    kept = sum(d.keep for d in outcome.decisions)
    gone = len(outcome.decisions) - kept
    output.info(f"Kept {kept}, {verb} {gone}.")


@app.command("drill")
def drill(
    ctx: typer.Context,
    identity: IdentityOpt = None,
    folder: DirOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Restore the newest backup into a temporary folder, verify it, compare row counts with the
    live store and record the result. Non-zero exit on failure; differing counts are reported.

    Example: riskcli backup drill --identity /root/.config/riskcli/backup-key.txt
    """
    with session(ctx, "backup.create", keep_secret=True) as s:
        cfg = _backup_config(s.config)
        result = service.drill(
            s.store,
            s.secret,
            cfg.folder(s.store.path, folder),
            identities=_identities(identity, cfg),
        )
        s.audit_affected(backup=result.backup.name if result.backup else None)
    output.render(result.rows(), fmt)
    output.info(f"Drill passed: {result.backup} restores and verifies.")


def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Backup file to restore.")],
    to: Annotated[
        Path | None, typer.Option("--to", help="Store path to restore to. Default: --db.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing store (it is kept as a safety copy)."),
    ] = False,
    identity: IdentityOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Verify a backup, then put its store and keys file in place atomically.

    Refuses to replace an existing store without --force, and then keeps the replaced store and
    keys as <db>.pre-restore-<time>. The restored store opens with the passphrases valid when
    the backup was taken, and is migrated to the current schema.
    Example: riskcli restore backups/riskcli-20261129T020000.000Z.rcbk --to book.db --force
    """
    g = get_globals(ctx)
    secret = passphrase(g.passphrase_file, g.user)
    target = to or g.db
    config = load_config(g.config, target)
    cfg = _backup_config(config)
    anchor = audit_service.anchor_path(target, config, g.anchor)

    def anchor_restore(store: Store) -> None:
        # the audit chain legitimately goes back in time: say so in the anchor
        audit_service.anchor_restore(store, anchor, source=file.name)

    with output.progress(
        file.stat().st_size if file.exists() else 0, "restore", unit="bytes"
    ) as tick:
        result = service.restore_backup(
            file,
            target,
            g.user,
            secret,
            identities=_identities(identity, cfg),
            force=force,
            progress=tick,
            on_restored=anchor_restore,
        )
    if result.recovered:
        output.warn(result.recovered)
    output.info(
        f"Restored {file.name} into {target}"
        + (f"; the replaced store is kept as {result.safety}" if result.safety else "")
    )
    output.render(result.as_row(), fmt)
