"""`import book DIR`: which files of a folder hold which kind, and the order they go in.

A file is recognised by its name without the extension: the kind's own name (`customers`,
`credit_reports` or `credit-reports`, ...) or a usual Chinese one (`客户`, `应收账款`, ...), in
any supported format. Customers go first, since every other kind refers to them.
"""

from __future__ import annotations

from pathlib import Path

from riskcli.domain.errors import InputError
from riskcli.services.importing.readers import EXTENSIONS

#: kind -> the file names (without extension) that hold it, in import order
BOOK_FILES: dict[str, tuple[str, ...]] = {
    "customers": ("customers", "客户", "客户档案", "客户信息", "客户资料", "客户清单"),
    "transactions": ("transactions", "交易", "交易明细", "交易记录", "订单", "收付款"),
    "receivables": ("receivables", "应收", "应收账款", "应收款", "应收明细", "发票"),
    "credit_reports": ("credit_reports", "征信", "征信报告", "信用报告"),
    "contracts": ("contracts", "合同", "合同台账"),
    "interactions": ("interactions", "互动", "互动记录", "沟通记录", "拜访记录"),
    "financials": ("financials", "财务", "财务数据", "财务报表"),
}

_BY_NAME = {name: kind for kind, names in BOOK_FILES.items() for name in names}


def kind_of(path: Path) -> str | None:
    """The kind a file holds by its name, or None."""
    if path.suffix.lower() not in EXTENSIONS or path.name.startswith((".", "~$")):
        return None
    return _BY_NAME.get(path.stem.strip().lower().replace("-", "_").replace(" ", "_"))


def book_files(folder: Path) -> tuple[list[tuple[str, list[Path]]], list[str]]:
    """([(kind, files)] in import order, names of the files not recognised)."""
    if not folder.exists():
        raise InputError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (import one file with `riskcli import KIND`)")
    found: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        kind = kind_of(path)
        if kind is None:
            if not path.name.startswith("."):
                ignored.append(path.name)
            continue
        found.setdefault(kind, []).append(path)
    plan = [(kind, found[kind]) for kind in BOOK_FILES if kind in found]
    if not plan:
        raise InputError(
            f"{folder}: no files to import (names such as customers.csv, transactions.xlsx, "
            "客户.csv, 应收账款.xlsx)"
        )
    return plan, ignored
