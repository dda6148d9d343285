"""What an account may be named: one rule for the config's model and for `wm ls --cached`'s
quick path, which reads the config without pydantic; and what a `wm serve` pool may be."""

from __future__ import annotations

__all__ = ["ACCOUNT_NAME_MAX", "ACCOUNT_NAME_PATTERN", "POOL_NAME", "POOL_NAME_WORDS"]

#: Letters, digits, '_', '.' and '-', starting with a letter or a digit: a name that is
#: also a file name, a column and a word in `ACCOUNT/ID`.
ACCOUNT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
ACCOUNT_NAME_MAX = 64

#: A `wm serve` pool's name (an account's `pool`, a [serve.pools.NAME] section), whole: it
#: goes in the aggregator's URLs (/api/v1/pools/POOL/launches), in catalog ids
#: (team/POOL/NAME, split at its first '/') and in `wm serve token create --pool`.
POOL_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
#: Why a pool's name is refused, in the config's words (config_words' for a pattern).
POOL_NAME_WORDS = (
    "use letters, digits, '_', '.' and '-', starting with a letter or a digit, at most 64 "
    "(it goes in the aggregator's URLs and in catalog ids team/POOL/NAME)"
)
