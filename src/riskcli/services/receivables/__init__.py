"""Receivables: month-end analytics (DSO, aging, roll rates), the provision matrix, and the
write-off / recovery ledger. Everything as of a date reads the book (`services/book.py`)."""
