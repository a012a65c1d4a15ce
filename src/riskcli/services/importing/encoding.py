"""Which text encoding a file uses: BOMs, UTF-16 without BOM, strict UTF-8, else charset-normalizer.

A guess that is not clear-cut is an error naming the likely encodings, so a GBK file is never read
as mojibake. `--encoding` skips all of this.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from riskcli.domain.errors import InputError

SAMPLE_BYTES = 1 << 20
MAX_CHAOS = 0.1  # charset-normalizer's "mess" ratio above which a guess is not trusted
MIN_GAP = 0.05  # the runner-up must be this much messier, or the guess is ambiguous

_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}


def normalise_name(name: str) -> str:
    """A codec name Python knows, with the GB family widened to its superset GB18030."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise InputError(f"unknown encoding {name!r}") from None
    if canonical in _GB_FAMILY or canonical.replace("-", "") in _GB_FAMILY:
        return "gb18030"
    return canonical


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _is_utf8(sample: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a sample may end inside a character
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes) -> str:
    """The encoding of `sample` (the head of a file), or InputError when unsure."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample[:4096])
    if utf16:
        return utf16
    if _is_utf8(sample):
        return "utf-8"
    results = list(charset_normalizer.from_bytes(sample))
    results.sort(key=lambda m: m.chaos)
    seen: dict[str, float] = {}
    for match in results:
        name = normalise_name(match.encoding)
        seen.setdefault(name, match.chaos)
    names = list(seen)
    likely = ", ".join(names[:3]) or "none found"
    hint = "; pass --encoding"
    if not names:
        raise InputError(f"cannot tell the file's encoding (likely: {likely}){hint}")
    best = names[0]
    if seen[best] > MAX_CHAOS:
        raise InputError(
            f"cannot tell the file's encoding with confidence (likely: {likely}){hint}"
        )
    if len(names) > 1 and seen[names[1]] - seen[best] < MIN_GAP:
        close = [n for n in names if seen[n] - seen[best] < MIN_GAP]
        if "gb18030" in close and _reads_as_chinese(sample):
            return "gb18030"  # the usual case: a short sheet from Excel on Chinese Windows
        raise InputError(f"ambiguous encoding (likely: {likely}){hint}")
    return best


def _reads_as_chinese(sample: bytes) -> bool:
    """True when GB18030 decodes the sample to ASCII plus common Chinese characters only."""
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F]
    allowed = ("\u4e00", "\u9fff"), ("\u3000", "\u303f"), ("\uff00", "\uffef")
    return bool(wide) and all(any(lo <= c <= hi for lo, hi in allowed) for c in wide)
