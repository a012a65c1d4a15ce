"""The audit trail: anchoring the chain head outside the store (anchor.py), verifying the chain
against it (verify.py), searching the events (log.py) and reporting on them (report.py).

Events live inside the store, hash-chained (`riskcli.storage.audit`). The names commands use are
importable from here.
"""

from __future__ import annotations

from riskcli.services.audit.anchor import (
    ANCHOR_ENV,
    ANCHOR_SUFFIX,
    AnchorEntry,
    AnchorFile,
    AuditConfig,
    anchor_head,
    anchor_path,
    anchor_restore,
    append_anchor,
    audit_config,
    read_anchor,
    store_id,
)
from riskcli.services.audit.log import (
    LOG_COLUMNS,
    LogFilter,
    last_activity,
    log,
    parse_instant,
    parse_period,
)
from riskcli.services.audit.report import (
    REPORT_COLUMNS,
    REPORT_SECTIONS,
    SECTION_TITLES,
    is_pii_event,
    report,
    sections_of,
)
from riskcli.services.audit.verify import Problem, VerifyResult, verify

__all__ = [
    "ANCHOR_ENV",
    "ANCHOR_SUFFIX",
    "LOG_COLUMNS",
    "REPORT_COLUMNS",
    "REPORT_SECTIONS",
    "SECTION_TITLES",
    "AnchorEntry",
    "AnchorFile",
    "AuditConfig",
    "LogFilter",
    "Problem",
    "VerifyResult",
    "anchor_head",
    "anchor_path",
    "anchor_restore",
    "append_anchor",
    "audit_config",
    "is_pii_event",
    "last_activity",
    "log",
    "parse_instant",
    "parse_period",
    "read_anchor",
    "report",
    "sections_of",
    "store_id",
    "verify",
]
