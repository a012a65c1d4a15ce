"""Credit limits under control: requests with maker-checker approval, customer groups, before
and after values in the audit trail, and currencies at import."""
