"""Query modules: one per aggregate, each the one place its common lookups are written, returning
typed rows with money already in Decimal."""
