"""EC2-compatible endpoints (moto, LocalStack, Eucalyptus): what libcloud needs to talk to them.

Each fix is written so it changes nothing against real AWS: it only acts on
what AWS itself never sends (or on what botocore-based servers expect and AWS
accepts either way). The driver built here is used when an account names an
`endpoint`, and for the accounts whose credentials botocore resolves (their
profile may name an endpoint); other AWS accounts get libcloud's own EC2 driver.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from libcloud.common.types import InvalidCredsError, MalformedResponseError
from libcloud.compute.drivers.ec2 import (
    NAMESPACE,
    VALID_EC2_REGIONS,
    EC2Connection,
    EC2NodeDriver,
    EC2Response,
)

if TYPE_CHECKING:
    from winged_monkey.aws import AwsIdentity

# Quirk 2: moto writes the namespace without the trailing slash AWS and libcloud use
# (`.../doc/2016-11-15`), so libcloud's namespaced lookups find nothing and every list
# comes back empty. Only the exact slash-less form is rewritten: AWS never sends it.
_BARE_NAMESPACE = re.compile(r'xmlns="(http://ec2\.amazonaws\.com/doc/[0-9-]+)"')

# Quirk 3: moto omits `<return>true</return>` in these answers; libcloud then reports
# False for a call that succeeded. A 200 without <return> means the call was accepted
# (a refusal is an HTTP error with an <Errors> body), so one is added. AWS always sends
# <return>, so nothing changes there.
_RETURN_ACTIONS = ("RebootInstances", "CreateTags", "DeleteTags", "ModifyInstanceAttribute")

#: Error codes that mean "these credentials are not accepted", as libcloud's own parser has
#: them, and EC2's answers to temporary credentials that have expired (RequestExpired, also
#: a clock more than 15 minutes off).
AUTH_CODES = frozenset(
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "OptInRequired",
        "RequestExpired",
        "ExpiredToken",
    }
)


def normalise_body(body: str) -> str:
    """A success body with AWS's namespace and the `<return>` moto leaves out."""
    body = _BARE_NAMESPACE.sub(lambda m: f'xmlns="{m.group(1)}/"', body, count=1)
    for action in _RETURN_ACTIONS:
        closing = f"</{action}Response>"
        if closing in body and "<return>" not in body:
            body = body.replace(closing, f"<return>true</return>{closing}", 1)
    return body


def parse_errors(body: str) -> list[tuple[str, str]]:
    """(code, message) of every <Error> in an error body, whatever its namespace.

    Quirk 2 again, for errors: moto puts its namespace on error bodies too (AWS sends
    none), and libcloud's parser looks for un-namespaced `Errors/Error`, so the
    provider's reason (InvalidAMIID..., AuthFailure) was lost. Quirk 5: moto's auth
    errors add a <Type> element, which breaks libcloud's `code, message = list(err)`.
    """
    root = ET.fromstring(body)  # noqa: S314 (a reply from the configured endpoint)
    found = []
    for element in root.iter():
        if _local(element.tag) != "Error":
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in element}
        found.append((fields.get("Code", "Error"), fields.get("Message", "")))
    return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class CompatEC2Response(EC2Response):
    def __init__(self, response: Any, connection: Any) -> None:
        # Quirk 6: moto answers `text/xml` with no charset, so requests decodes the body as
        # ISO-8859-1 (HTTP's old default for text/*) and a tag such as Name=日本語 came back
        # as 'æ\x97¥æ\x9c¬'. XML without a charset is UTF-8 (RFC 7303, and the answer's
        # own declaration says so); AWS always names it, so nothing changes there.
        content_type = str(response.headers.get("Content-Type", "")).lower()
        if "xml" in content_type and "charset" not in content_type:
            response.encoding = "utf-8"
        super().__init__(response, connection)  # type: ignore[no-untyped-call]

    def parse_body(self) -> Any:
        self.body = normalise_body(str(self.body or ""))
        parsed = super().parse_body()  # type: ignore[no-untyped-call]
        # Every EC2 answer is an <ActionResponse>; a page that merely parses as XML (a
        # captive portal's HTML) would otherwise read as an account with no instances.
        if isinstance(parsed, ET.Element) and not _local(parsed.tag).endswith("Response"):
            raise MalformedResponseError("not an EC2 answer", body=self.body[:200])
        return parsed

    def parse_error(self) -> str:
        body = str(self.body or "")
        try:
            errors = parse_errors(body)
        except ET.ParseError:
            if int(self.status) in (401, 403):
                raise InvalidCredsError(f"HTTP {self.status}") from None
            raise MalformedResponseError("Failed to parse XML", body=body[:200]) from None
        for code, message in errors:
            if code in AUTH_CODES:
                raise InvalidCredsError(f"{code}: {message}")
        return "\n".join(f"{code}: {message}" for code, message in errors) or f"HTTP {self.status}"


class CompatEC2Connection(EC2Connection):
    responseCls = CompatEC2Response

    def pre_connect_hook(
        self, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        # Quirk 5: moto checks signatures by re-signing with botocore, which never signs
        # User-Agent; libcloud signs every header, so every signature "does not match"
        # once moto enforces IAM. Sign without it (as botocore does; AWS accepts both).
        agent = headers.pop("User-Agent", None)
        params, headers = super().pre_connect_hook(  # type: ignore[no-untyped-call]
            _one_based_tags(params), headers
        )
        if agent is not None:
            headers["User-Agent"] = agent
        return params, headers


def _one_based_tags(params: dict[str, Any]) -> dict[str, Any]:
    """Quirk 4: libcloud's ex_create_tags/ex_delete_tags number `ResourceId.0`, `Tag.0.Key`;
    moto wants the documented 1-based form, which AWS accepts too."""
    if not params or params.get("Action") not in ("CreateTags", "DeleteTags"):
        return params
    if "ResourceId.0" not in params and "Tag.0.Key" not in params:
        return params
    fixed: dict[str, Any] = {}
    for name, value in params.items():
        match = re.fullmatch(r"(ResourceId|Tag)\.(\d+)(\..*)?", name)
        if match:
            name = f"{match.group(1)}.{int(match.group(2)) + 1}{match.group(3) or ''}"
        fixed[name] = value
    return fixed


class CompatEC2NodeDriver(EC2NodeDriver):
    """libcloud's EC2 driver for an EC2-compatible endpoint, or for an AWS region newer
    than libcloud's table (given its host).

    Quirk 1 (SigV2 in us-east-1 carries no Authorization header, so moto routes the
    call to S3) is handled where the driver is built: `signature_version="4"`.
    """

    connectionCls = CompatEC2Connection

    def __init__(
        self, key: str, secret: str | None = None, *, region: str = "us-east-1", **kwargs: Any
    ):
        # A region botocore knows and libcloud's table does not yet (libcloud refuses it):
        # the host is botocore's endpoint for it, and requests are signed for that region.
        known = region in VALID_EC2_REGIONS or "host" not in kwargs
        stand_in = region if known else "us-east-1"
        super().__init__(key, secret, region=stand_in, **kwargs)  # type: ignore[no-untyped-call]
        self.region_name = region


class RenewingEC2Connection(CompatEC2Connection):
    """Signs each request with the credentials botocore holds now: temporary ones (an
    assumed role, SSO, instance metadata) are renewed before they expire, so a TUI or
    `wm serve` running for hours never signs with an expired token."""

    credentials: AwsIdentity | None = None

    def add_default_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.credentials is not None:
            key, secret, token = self.credentials.frozen()
            connection: Any = self  # libcloud annotates `key` as the int of other drivers
            connection.user_id, connection.key, connection.token = key, secret, token
            connection.signer.access_key, connection.signer.access_secret = key, secret
        signed: dict[str, Any] = super().add_default_params(params)  # type: ignore[no-untyped-call]
        return signed


class BotocoreEC2NodeDriver(CompatEC2NodeDriver):
    """The EC2 driver of an account whose credentials botocore resolves (`ex_credentials`).

    Built on the compatible driver so that an endpoint from the profile (endpoint_url,
    services) works as a configured one does; its fixes change nothing against AWS."""

    connectionCls = RenewingEC2Connection

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        *,
        region: str = "us-east-1",
        ex_credentials: AwsIdentity | None = None,
        ex_path: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(key, secret, region=region, **kwargs)
        if ex_path:
            self.path = ex_path
        connection: Any = self.connection
        connection.credentials = ex_credentials


__all__ = [
    "NAMESPACE",
    "BotocoreEC2NodeDriver",
    "CompatEC2NodeDriver",
    "normalise_body",
    "parse_errors",
]
