"""The words of a config error: what a mistyped key most likely means (another tool's name
for it, the same in another case, the nearest spelling) and pydantic's errors said as what
to write, for the core's config and every backend's settings alike."""

from __future__ import annotations

from collections.abc import Collection

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from winged_monkey.errors import nearest


def a(word: str) -> str:
    """`word` after its article: "an aggregator", "a vsphere"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


#: What other tools call a key an account writes (lowercased: `cacert` is openstacksdk's
#: and clouds.yaml's, `user` and `host` most tools'), and the keys of wm it means, dotted
#: from the account's table: the first the account takes is offered (`user` is Heat's
#: `username`, else `credentials.key`), and none if it takes none, before any near spelling
#: (difflib sent `username` to `name` and `user` to `ssh_user`: renaming the account, or
#: setting the guest's login).
SYNONYMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("username", "user", "user_name", "login"), ("username", "credentials.key")),
    **dict.fromkeys(
        ("key", "key_id", "access_key", "access_key_id", "aws_access_key_id", "aws_access_key"),
        ("credentials.key",),
    ),
    # ~/.aws/config's and boto3's names for the profile (`profile` is not `provider`).
    **dict.fromkeys(
        ("profile", "aws_profile", "profile_name", "aws_profile_name"), ("credentials.aws_profile",)
    ),
    # ssh's, Ansible's and Terraform's names for the login key (`ssh_key` is not `ssh_user`).
    **dict.fromkeys(
        (
            "ssh_key",
            "ssh_key_file",
            "ssh_private_key",
            "ssh_private_key_file",
            "ansible_ssh_private_key_file",
            "identity",
            "identity_file",
            "identityfile",
            "private_key",
            "private_key_file",
            "key_file",
            "keyfile",
        ),
        ("ssh_identity",),
    ),
    **dict.fromkeys(("host", "hostname", "server"), ("url", "endpoint.host")),
    **dict.fromkeys(
        ("cacert", "ca_cert", "cafile", "ca_file", "cacerts", "ca_certs", "ca"), ("ca_bundle",)
    ),
    **dict.fromkeys(("cert", "client_certificate", "tls_cert"), ("client_cert",)),
    **dict.fromkeys(("verify", "verify_ssl", "ssl_verify"), ("verify", "insecure")),
    **dict.fromkeys(("insecure", "no_verify", "skip_verify"), ("insecure", "verify")),
}
#: The two names backends give TLS verification, and how each turns it off.
TURNS_OFF = {"insecure": "insecure = true", "verify": "verify = false"}


def meant(key: str, valid: Collection[str], *, table: str | None = "") -> str | None:
    """The key of `valid` (those of the table `key` is written in: `table` from the
    account's, "" for the account's own, "credentials"; None for a table not an account's)
    that the unknown `key` most likely means: the same in another case, a synonym's, else
    the nearest spelling; None when near none, or when `key` is another tool's name for
    something this account's table does not take (`insecure` in a libvirt account: its
    nearest spelling would be wrong too)."""
    folded = {name.lower(): name for name in valid}
    if key.lower() in folded:
        return folded[key.lower()]
    if table is not None and key.lower() in SYNONYMS:
        prefix = f"{table}." if table else ""
        for target in SYNONYMS[key.lower()]:
            if target.startswith(prefix) and target.removeprefix(prefix) in valid:
                return target.removeprefix(prefix)
        return None
    return nearest(key, valid)


def in_words(error: ErrorDetails) -> str:
    """What pydantic's `error` says, in the config's words: what to write, where pydantic's
    name its internals ("Input is not a valid path for <class 'pathlib.Path'>"), and a
    validator's own words without pydantic's "Value error, ". For the config's errors and
    each backend's settings' alike (`settings_problems`)."""
    kind = error["type"]
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']} (in quotes, as written here)"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        limit = error["ctx"][key]
        return f"must be {words} {int(limit) if limit == int(limit) else limit}"
    return _PLAIN.get(kind, str(error["msg"]))


def settings_problems(exc: ValidationError) -> str:
    """A backend's settings' errors in the config's words, each after its key: what a
    backend's `read_settings` says of an account's keys."""
    return "; ".join(
        (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "") + in_words(e)
        for e in exc.errors()
    )


#: pydantic's words where they name its internals rather than what to write.
_PLAIN = {
    "string_pattern_mismatch": "use letters, digits, '_', '.' and '-', starting with a letter "
    "or a digit",
    "string_type": "must be a string, in quotes",
    "path_type": "must be a file's path, in quotes",
    "bool_type": "must be true or false (no quotes)",
    "bool_parsing": "must be true or false (no quotes)",
    "float_type": "must be a number (no quotes, no unit)",
    "float_parsing": "must be a number (no quotes, no unit)",
    "int_type": "must be a whole number (no quotes, no unit)",
    "int_parsing": "must be a whole number (no quotes, no unit)",
    "finite_number": "must be a finite number (not inf or nan)",
}
#: pydantic's limits on a number, as the words to write before the limit and its key.
_BOUNDS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}
