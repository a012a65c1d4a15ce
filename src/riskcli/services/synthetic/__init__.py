"""Synthetic customer book: consistent, reproducible, realistic files for every import kind.

Customers are generated in fixed-size chunks, each from its own random stream seeded by
``(seed, chunk)``: memory stays flat at any scale, the same seed gives byte-identical files, and
chunks can be made in parallel processes without changing a byte.

`drivers` draws who each customer is, their risk and lifecycle; `orders` their orders, invoices
and transactions; `customers`, `identity` and `records` the other files; `csvbytes` formats
arrays as CSV bytes; `chunk` runs the steps for one chunk and `files` writes the book.
"""

from riskcli.services.synthetic.chunk import generate_chunk
from riskcli.services.synthetic.config import (
    CHUNK,
    COLUMNS,
    DEFAULT_AS_OF,
    FILES,
    MAX_CUSTOMERS,
    SyntheticConfig,
)
from riskcli.services.synthetic.files import GenerateSummary, existing_outputs, generate

__all__ = [
    "CHUNK",
    "COLUMNS",
    "DEFAULT_AS_OF",
    "FILES",
    "MAX_CUSTOMERS",
    "GenerateSummary",
    "SyntheticConfig",
    "existing_outputs",
    "generate",
    "generate_chunk",
]
