"""What an account may be named: one rule for the config's model and for `wm ls --cached`'s
quick path, which reads the config without pydantic."""

from __future__ import annotations

__all__ = ["ACCOUNT_NAME_MAX", "ACCOUNT_NAME_PATTERN"]

#: Letters, digits, '_', '.' and '-', starting with a letter or a digit: a name that is
#: also a file name, a column and a word in `ACCOUNT/ID`.
ACCOUNT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
ACCOUNT_NAME_MAX = 64
