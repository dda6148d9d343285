"""A libvirt account's `driver.uri`: there, and without a password, when the account is
built; its password masked wherever the uri or libvirt's words about it are shown.

libvirt takes no password from its URI for real authentication (ssh uses the user's keys,
SASL asks through a callback), so one written there (`qemu+tcp://me:pw@host/system`) would
only ever be printed: in `wm accounts test`'s line, in libvirt's own "Unable to parse URI
..." words. It is refused by name, never echoed, and masked should one get through.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from winged_monkey.account import AccountConfig
from winged_monkey.errors import ConfigError

EXAMPLES = "e.g. qemu:///system, or qemu+ssh://user@host/system"
MASK = "***"


def check(account: AccountConfig) -> None:
    """Refuses a libvirt account whose driver.uri is missing, not a string, or holds a
    password (the password never echoed)."""
    uri = account.driver.get("uri")
    if uri is None:
        hint = ""
        if account.endpoint is not None:  # host and port the way other providers take them
            hint = (
                ": libvirt reads no endpoint, the host goes in the uri "
                "(qemu+ssh://user@host/system)"
            )
        raise ConfigError(
            f"a libvirt account needs driver.uri ({EXAMPLES}){hint}", account=account.name
        )
    if not isinstance(uri, str):
        raise ConfigError(
            f'driver.uri must be a string in quotes: driver = {{ uri = "..." }} ({EXAMPLES})',
            account=account.name,
        )
    if password(uri) is not None:
        raise ConfigError(
            "driver.uri holds a password, which libvirt does not take from the URI and wm "
            "would print: drop it (qemu+ssh uses your ssh keys)",
            account=account.name,
        )


def password(uri: str) -> str | None:
    """The password of `uri`'s userinfo (`user:password@host`) as written, or None.

    Read by hand rather than by urlsplit, which refuses some uris libvirt itself reads (or
    that reach libvirt's own parser and its error): the authority runs from `//` to the
    first `/`, `?` or `#`, and its userinfo to the last `@` in it.
    """
    _, sep, rest = uri.partition("//")
    if not sep:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, _ = authority.rpartition("@")
    _, colon, secret = userinfo.partition(":")
    return secret if at and colon and secret else None


def scrub(text: str, uri: object) -> str:
    """`text` with the password of `uri` (if it holds one) masked, as written and decoded."""
    secret = password(uri) if isinstance(uri, str) else None
    if secret is None:
        return text
    for form in sorted({secret, unquote(secret)}, key=len, reverse=True):
        if form:
            text = text.replace(form, MASK)
    return text
