"""Customer-data import: readers, encoding detection, header mapping, validation, upserts."""

from riskcli.services.importing.readers import Source, resolve_source, spool_stdin
from riskcli.services.importing.service import (
    KINDS,
    FileResult,
    ImportAborted,
    ImportResult,
    Problem,
    history,
    import_files,
    probable_duplicates,
)

__all__ = [
    "KINDS",
    "FileResult",
    "ImportAborted",
    "ImportResult",
    "Problem",
    "Source",
    "history",
    "import_files",
    "probable_duplicates",
    "resolve_source",
    "spool_stdin",
]
