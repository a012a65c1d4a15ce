"""Reason codes: what a score's reasons are (factor, override, default), their one-byte stored
form (migration m060) and their texts.

Decoding one stored score (`ReasonTexts.stored`) is plain Python, so a lookup reads a score's
reasons without numpy; the functions that work on a whole run's arrays import numpy on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from riskcli.domain.errors import InputError, IntegrityError
from riskcli.services.scoring.card import Bin, Factor, Scorecard

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from riskcli.services.scoring.columns import CodeArray


def reason_text(factor: Factor, b: Bin) -> str:
    """The reason a bin gives, in the factor's unit (see `riskcli.services.scoring.wording`)."""
    from riskcli.services.scoring.wording import describe_bin

    return describe_bin(factor.name, factor.description, b)


#: `Scored.codes` holds factor j as j, override i as -1 - i, and NO_REASON after the last reason.
NO_REASON = -0x8000
#: A stored score keeps at most this many reasons, one byte each: the code modulo 256, so factor
#: j is the byte j (< 0xF0) and override i the byte 0xFF - i (migration m060).
STORED_REASONS = 4
MAX_FACTOR_CODES = 0xF0
MAX_OVERRIDE_CODES = 14
#: the reason of a customer in default (grade DF): byte 0xF0, above every override's byte
DEFAULT_CODE = -0x10
DEFAULT_REASON = "in default: a material amount is overdue beyond the default threshold"
#: the grade of a customer in default: outside the model's bands, below its worst grade
DEFAULT_GRADE = "DF"

_NO_SUCH_REASON = "a stored score names a reason its model does not have"
_NO_SUCH_BIN = "a stored score names a bin its model does not have"
_NO_SUCH_OVERRIDE = "a stored score names an override its model does not have"


def override_code(i: int) -> int:
    return -1 - i


def check_reason_codes(card: Scorecard) -> None:
    """A model whose reasons fit the stored one-byte codes, or a clear error."""
    if len(card.factors) >= MAX_FACTOR_CODES:
        raise InputError(
            f"the model has {len(card.factors)} factors; a stored score run takes at most "
            f"{MAX_FACTOR_CODES - 1} (its reasons are one byte each)"
        )
    if len(card.overrides) > MAX_OVERRIDE_CODES:
        raise InputError(
            f"the model has {len(card.overrides)} overrides; a stored score run takes at most "
            f"{MAX_OVERRIDE_CODES} (its reasons are one byte each)"
        )


def reason_blobs(codes: CodeArray) -> list[bytearray]:
    """Each row's first STORED_REASONS codes as bytes, without the NO_REASON markers.

    A bytearray because the sqlite3 module binds it as a BLOB directly (bytes would go through
    its adapter lookup); an empty one is an empty BLOB, not NULL.
    """
    import numpy as np

    head = codes[:, :STORED_REASONS]
    n, r = head.shape
    count = (head != NO_REASON).sum(axis=1).tolist()
    buf = head.astype(np.uint8).tobytes()  # wraps modulo 256: override i becomes 0xFF - i
    return [bytearray(buf[s : s + c]) for s, c in zip(range(0, n * r, r), count, strict=True)]


def code_of_byte(value: int) -> int:
    """A stored byte back to its code (`codes_of_bytes` for one byte)."""
    return value if value < MAX_FACTOR_CODES else value - 0x100


def codes_of_bytes(values: npt.NDArray[np.int16]) -> CodeArray:
    """Stored bytes back to codes (-1 marks no byte, i.e. no reason)."""
    import numpy as np

    out: CodeArray = np.where(
        values < 0, NO_REASON, np.where(values < MAX_FACTOR_CODES, values, values - 0x100)
    ).astype(np.int16)
    return out


class ReasonTexts:
    """The reason texts of one model, looked up by reason code (build it once per model)."""

    def __init__(self, card: Scorecard) -> None:
        texts = [reason_text(f, b) for f in card.factors for b in f.bins]
        self._sizes = [len(f.bins) for f in card.factors]
        self._offsets = list(accumulate([0, *self._sizes[:-1]]))
        self._overrides = len(card.overrides)
        self._first_override = len(texts)
        self._texts: list[str | None] = [
            *texts, *(o.reason for o in card.overrides), DEFAULT_REASON, None
        ]  # fmt: skip
        from riskcli.services.scoring.wording import applies

        #: factor codes that are never an individual's reason
        self._company_only = {
            j for j, f in enumerate(card.factors) if not applies(f.name, "individual")
        }
        self._arrays: tuple[Any, Any, Any] | None = None  # numpy forms, built by `matrix`

    def _numpy(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[Any]]:
        """Sizes, offsets and texts as arrays for the vectorised lookups (built once)."""
        import numpy as np

        if self._arrays is None:
            self._arrays = (
                np.array(self._sizes, dtype=np.int64),
                np.array(self._offsets, dtype=np.int64),
                np.array(self._texts, dtype=object),
            )
        return self._arrays

    def matrix(
        self, bins: npt.NDArray[np.integer[Any]], codes: CodeArray
    ) -> npt.NDArray[np.object_]:
        """The texts of n rows' codes (n x r; None for NO_REASON) given their bins (n x k)."""
        import numpy as np

        sizes, offsets, table = self._numpy()
        index = np.full(codes.shape, len(table) - 1, dtype=np.int64)
        factor = codes >= 0
        if factor.any():
            rows, cols = np.nonzero(factor)
            j = codes[rows, cols].astype(np.int64)
            if int(j.max()) >= len(sizes):
                raise IntegrityError(_NO_SUCH_REASON)
            b = np.asarray(bins[rows, j], dtype=np.int64)
            if bool((b >= sizes[j]).any()):
                raise IntegrityError(_NO_SUCH_BIN)
            index[rows, cols] = offsets[j] + b
        defaulted = codes == DEFAULT_CODE
        index[defaulted] = len(table) - 2
        overridden = (codes < 0) & (codes != NO_REASON) & ~defaulted
        if overridden.any():
            i = -1 - codes[overridden].astype(np.int64)
            if int(i.max()) >= self._overrides:
                raise IntegrityError(_NO_SUCH_OVERRIDE)
            index[overridden] = self._first_override + i
        out: npt.NDArray[np.object_] = table[index]
        return out

    def row(self, bins: bytes, codes: Sequence[int]) -> list[str | None]:
        """The texts of one row's codes (None for NO_REASON) given its bins: `matrix` for one
        row, in plain Python."""
        factor = [c for c in codes if c >= 0]
        if factor and max(factor) >= len(self._sizes):
            raise IntegrityError(_NO_SUCH_REASON)
        if any(bins[j] >= self._sizes[j] for j in factor):
            raise IntegrityError(_NO_SUCH_BIN)
        overrides = [-1 - c for c in codes if c < 0 and c not in (NO_REASON, DEFAULT_CODE)]
        if overrides and max(overrides) >= self._overrides:
            raise IntegrityError(_NO_SUCH_OVERRIDE)
        last = len(self._texts) - 1
        index = [
            self._offsets[c] + bins[c] if c >= 0
            else last - 1 if c == DEFAULT_CODE
            else last if c == NO_REASON
            else self._first_override - 1 - c
            for c in codes
        ]  # fmt: skip
        return [self._texts[i] for i in index]

    def stored(
        self,
        bins: bytes,
        reasons: bytes | None,
        legacy: Sequence[Any] = (),
        kind: str | None = None,
    ) -> list[str]:
        """The reason texts of one stored score, most points lost first.

        `reasons` is the score's code blob; NULL (None) for a score stored before reason codes
        (m060), whose texts are `legacy` (its reason1..reason4). For an individual (`kind`),
        factors that only describe companies are left out.
        """
        if not isinstance(reasons, bytes | bytearray):  # NULL, or NaN from a DataFrame
            return [t for t in legacy if isinstance(t, str) and t]
        if not reasons:
            return []
        codes = [code_of_byte(b) for b in bytes(reasons)]
        if kind == "individual" and self._company_only:
            codes = [c for c in codes if c not in self._company_only]
            if not codes:
                return []
        return [str(t) for t in self.row(bytes(bins), codes)]

    def first_stored(
        self, bins: Sequence[bytes], first: Sequence[bytes | None], legacy: Sequence[Any]
    ) -> list[str | None]:
        """The first reason text of many stored scores of this model (vectorised).

        `first` holds the first byte of each score's code blob (`substr(reasons, 1, 1)`): empty
        when it has no reason, NULL for a score from before reason codes, whose text is
        `legacy` (reason1).
        """
        import numpy as np

        n = len(bins)
        if n == 0:
            return []
        # -2: NULL (or NaN from a DataFrame), a score from before codes; -1: no reason
        byte = np.fromiter(
            (-2 if not isinstance(c, bytes) else c[0] if c else -1 for c in first),
            dtype=np.int16,
            count=n,
        )
        flat = np.frombuffer(b"".join(bins), dtype=np.uint8)
        if flat.size != n * len(self._sizes):
            raise IntegrityError("stored scores do not have one bin per factor of their model")
        codes = codes_of_bytes(np.where(byte == -2, -1, byte).astype(np.int16))
        texts = self.matrix(flat.reshape(n, len(self._sizes)), codes[:, None])[:, 0]
        old = byte == -2
        if old.any():
            texts[old] = np.asarray(legacy, dtype=object)[old]
        out: list[str | None] = texts.tolist()
        return out
